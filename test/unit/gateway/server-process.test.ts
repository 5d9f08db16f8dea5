import { describe, expect, it } from 'vitest'
import { quoteWindowsArg, resolveCommand } from '../../../src/gateway/proxy/server-process'

describe('resolveCommand', () => {
  it('uses the command as is on POSIX', () => {
    expect(resolveCommand('npx', ['-y', 'pkg'], {}, 'linux', () => false)).toEqual({
      file: 'npx',
      args: ['-y', 'pkg'],
    })
  })

  it('finds npx.cmd through PATH and PATHEXT on Windows and runs it via cmd.exe', () => {
    const exists = (p: string): boolean => p === 'C:\\node\\npx.cmd'
    const r = resolveCommand(
      'npx',
      ['-y', '@scope/server', 'a b'],
      {
        PATH: 'C:\\Windows;C:\\node',
        PATHEXT: '.COM;.EXE;.BAT;.CMD',
        ComSpec: 'C:\\Windows\\system32\\cmd.exe',
      },
      'win32',
      exists,
    )
    expect(r.file).toBe('C:\\Windows\\system32\\cmd.exe')
    expect(r.windowsVerbatimArguments).toBe(true)
    expect(r.args).toEqual([
      '/d',
      '/s',
      '/c',
      '"C:\\node\\npx.cmd ^"-y^" ^"@scope/server^" ^"a^ b^""',
    ])
  })

  it('prefers an .exe found earlier in PATH and runs it directly', () => {
    const exists = (p: string): boolean => p === 'C:\\tools\\uvx.exe'
    expect(
      resolveCommand('uvx', ['srv'], { PATH: 'C:\\tools', PATHEXT: '.EXE;.CMD' }, 'win32', exists),
    ).toEqual({ file: 'C:\\tools\\uvx.exe', args: ['srv'] })
  })

  it('leaves an unknown command for spawn to report', () => {
    expect(resolveCommand('nope', [], { PATH: 'C:\\x' }, 'win32', () => false)).toEqual({
      file: 'nope',
      args: [],
    })
  })
})

describe('quoteWindowsArg', () => {
  it('quotes for the C runtime and caret-escapes every cmd metacharacter, quotes included', () => {
    expect(quoteWindowsArg('plain')).toBe('^"plain^"')
    expect(quoteWindowsArg('')).toBe('^"^"')
    expect(quoteWindowsArg('a b')).toBe('^"a^ b^"')
    expect(quoteWindowsArg('say "hi"')).toBe('^"say^ \\^"hi\\^"^"')
    expect(quoteWindowsArg('a&calc|x>y%PATH%!z')).toBe('^"a^&calc^|x^>y^%PATH^%^!z^"')
    expect(quoteWindowsArg('C:\\my dir\\')).toBe('^"C:\\my^ dir\\\\^"')
  })

  it('escapes twice for npm .cmd shims, which run the arguments through cmd again', () => {
    expect(quoteWindowsArg('a&b', true)).toBe('^^^"a^^^&b^^^"')
    const exists = (p: string): boolean => p === 'C:\\proj\\node_modules\\.bin\\srv.cmd'
    const r = resolveCommand('C:\\proj\\node_modules\\.bin\\srv.cmd', ['x&y'], {}, 'win32', exists)
    expect(r.args[3]).toBe('"C:\\proj\\node_modules\\.bin\\srv.cmd ^^^"x^^^&y^^^""')
  })
})
