/**
 * The data-directory error's message for each OS error a user meets: it names the directory,
 * what is wrong and what to do (the CLI and the shim print it as is).
 */
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { dataDirProblem, isDataDirError } from '../../../src/node/paths'

function osError(code: string, syscall: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} '${file}'`), { code, syscall, path: file })
}

const HOME = path.join(path.sep, 'nonexistent-airlock-test', 'home')

describe('dataDirProblem', () => {
  it.each([
    [
      'EACCES',
      'open',
      path.join(HOME, 'audit'),
      `permission denied writing ${HOME}/audit (EACCES)`,
    ],
    [
      'EPERM',
      'open',
      path.join(HOME, '.write-test-42'),
      `permission denied writing in ${HOME} (EPERM)`,
    ],
    [
      'ENOSPC',
      'write',
      path.join(HOME, 'secret'),
      `the disk is full (ENOSPC writing ${HOME}/secret)`,
    ],
    ['EDQUOT', 'write', HOME, `the disk quota is used up (EDQUOT writing ${HOME})`],
    ['EROFS', 'mkdir', HOME, 'it is on a read-only file system (EROFS)'],
    ['ENOTDIR', 'mkdir', HOME, 'a part of the path is not a directory (ENOTDIR)'],
  ])('%s', (code, syscall, file, why) => {
    const e = dataDirProblem(HOME, osError(code, syscall, file))
    expect(e.name).toBe('DataDirError')
    expect(e.code).toBe(code)
    expect(e.message).toBe(
      `Airlock cannot use its data directory ${HOME}: ${why}. Free or fix that location, or set AIRLOCK_HOME to a directory you can write (in each MCP client's entry too, where "airlock clients wrap" puts it).`,
    )
  })

  it('isDataDirError: OS errors about the directory, inside it or on the way to it', () => {
    expect(isDataDirError(HOME, osError('ENOSPC', 'write', path.join(HOME, 'a', 'b')))).toBe(true)
    expect(isDataDirError(HOME, osError('ENOTDIR', 'mkdir', path.dirname(HOME)))).toBe(true)
    expect(isDataDirError(HOME, osError('EACCES', 'open', '/etc/elsewhere'))).toBe(false)
    expect(isDataDirError(HOME, new Error('plain'))).toBe(false)
  })
})
