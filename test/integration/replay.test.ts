/**
 * `airlock policy replay` and the control API's `policy.replay` over a history recorded by real
 * calls: two SDK Clients through the real shim and gateway call server-everything, then drafts
 * are replayed against the audit log.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReplayReport } from '../../src/shared/policy/replay'
import { Env, everything, textOf } from '../helpers/harness'

let env: Env

const LIVE = {
  version: '1',
  default: 'allow',
  tools: {
    echo: { rules: [{ name: 'echo ok', action: 'allow' }] },
    'get-sum': {
      rules: [
        {
          name: 'small sums',
          action: 'deny',
          conditions: [{ path: 'args.a', op: 'gt', value: 100 }],
          on_deny: 'only small sums',
        },
      ],
    },
  },
}

function draft(name: string, body: unknown): string {
  const file = path.join(env.home, name)
  fs.writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body, null, 2))
  return file
}

beforeAll(async () => {
  env = new Env()
  env.writeConfig([everything('everything', { policy: env.writePolicy('everything', LIVE) })])
  await env.startGateway()
  const a = (await env.connect('everything', { name: 'agent-a' })).client
  const b = (await env.connect('everything', { name: 'agent-b' })).client
  for (const m of ['one', 'two', 'three'])
    expect(textOf(await a.callTool({ name: 'echo', arguments: { message: m } }))).toBe(`Echo: ${m}`)
  await a.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })
  await a.callTool({ name: 'get-sum', arguments: { a: 2, b: 2 } })
  const denied = await a.callTool({ name: 'get-sum', arguments: { a: 500, b: 1 } })
  expect(textOf(denied)).toBe('[Airlock policy] only small sums')
  expect(textOf(await b.callTool({ name: 'echo', arguments: { message: 'from b' } }))).toBe(
    'Echo: from b',
  )
}, 60_000)

afterAll(async () => {
  await env.cleanup()
})

describe('airlock policy replay', () => {
  it('the live policy as the draft: nothing changes, exit 0', async () => {
    const r = await env.run(['policy', 'replay', '--policy', draft('same.json', LIVE)])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Replayed 7 recorded calls (every server,')
    expect(r.stdout).toContain('  echo (everything): 4 calls, no change')
    expect(r.stdout).toContain('  get-sum (everything): 3 calls, no change')
    expect(r.stdout).toContain('Nothing would change.')
  })

  it('a draft that changes decisions: per tool was → would be, counts, examples; exit 1', async () => {
    const file = draft(
      'draft.yaml',
      [
        'version: "1"',
        'default: allow',
        'tools:',
        '  echo:',
        '    rules:',
        '      - name: not agent-b',
        '        action: deny',
        '        clients: [agent-b]',
        '        on_deny: agent-b may not echo',
        '  get-sum:',
        '    rules:',
        '      - name: ask',
        '        action: require_approval',
        '',
      ].join('\n'),
    )
    const r = await env.run(['policy', 'replay', '--policy', file, '--server', 'everything'])
    expect(r.code).toBe(1)
    const out = r.stdout
    expect(out).toContain('  echo (everything): 1 of 4 calls would change')
    expect(out).toContain('    allow → deny: 1')
    expect(out).toMatch(/#\d+ \S+ agent-b \{"message":"from b"\} — agent-b may not echo/)
    expect(out).toContain('    unchanged: 3')
    expect(out).toContain('  get-sum (everything): 3 of 3 calls would change')
    expect(out).toContain('    allow → require_approval: 2')
    expect(out).toContain('    deny → require_approval: 1')
    expect(out).toContain('4 of 7 calls would be decided differently (2 tools).')
    // Tools with changes come first.
    expect(out.indexOf('echo (everything)')).toBeLessThan(out.indexOf('get-sum (everything)'))

    const json = await env.run(['policy', 'replay', '--policy', file, '--json'])
    expect(json.code).toBe(1)
    const report = JSON.parse(json.stdout) as ReplayReport
    expect(report).toMatchObject({ calls: 7, changed: 4, skipped: 0 })
    const echo = report.tools.find((t) => t.tool === 'echo')
    expect(echo?.changes).toEqual([
      {
        was: 'allow',
        wouldBe: 'deny',
        count: 1,
        examples: [
          expect.objectContaining({
            client: 'agent-b',
            args: '{"message":"from b"}',
            reason: 'agent-b may not echo',
          }),
        ],
      },
    ])
  })

  it('an invalid draft: its own exit code (3) and every problem located; nothing replayed', async () => {
    const file = draft(
      'bad.yaml',
      'version: "1"\ntools:\n  echo:\n    rules:\n      - name: x\n        action: nope\n',
    )
    const r = await env.run(['policy', 'replay', '--policy', file])
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('is not a valid policy (1 problem); nothing was replayed')
    expect(r.stderr).toContain('bad.yaml:6:9: tools.echo.rules[0].action: expected one of')
  })

  it('--server and --since narrow what is replayed', async () => {
    const file = draft('deny-all.json', { version: '1', default: 'deny' })
    const other = await env.run(['policy', 'replay', '--policy', file, '--server', 'nothing-here'])
    expect(other.code).toBe(0)
    expect(other.stdout).toContain('No recorded calls to replay (server "nothing-here")')
    const future = new Date(Date.now() + 86_400_000).toISOString()
    const later = await env.run(['policy', 'replay', '--policy', file, '--since', future])
    expect(later.code).toBe(0)
    expect(later.stdout).toContain('No recorded calls to replay')
    const week = await env.run(['policy', 'replay', '--policy', file, '--since', '7d'])
    expect(week.code).toBe(1)
    expect(week.stdout).toContain('6 of 7 calls would be decided differently (2 tools).')
    const bad = await env.run(['policy', 'replay', '--policy', file, '--since', 'yesterday'])
    expect(bad.code).toBe(3)
    expect(bad.stderr).toContain('--since "yesterday": expected an ISO time')
  })
})

describe('control API policy.replay (what Tools & policy shows before Save)', () => {
  it('gives the same report, and the errors of an invalid draft', async () => {
    const control = await env.control()
    const text = JSON.stringify({ version: '1', default: 'allow', hide: ['echo'] })
    const r = await control.api.policy.replay({
      server: 'everything',
      text,
    })
    if (!r.ok) throw new Error(`the draft was refused: ${JSON.stringify(r.errors)}`)
    expect(r.report).toMatchObject({ calls: 7, changed: 5 })
    expect(r.report.tools[0]).toMatchObject({
      tool: 'echo',
      changes: [{ was: 'allow', wouldBe: 'hidden', count: 4 }],
    })
    const bad = await control.api.policy.replay({ server: 'everything', text: '{"version":"2"}' })
    expect(bad).toMatchObject({ ok: false, errors: [{ path: 'version' }] })
    await expect(control.api.policy.replay({ server: 'missing', text })).rejects.toThrow(/missing/)
  })
})
