/**
 * One truth about protection (src/shared/protection.ts): the words `airlock policy show`, the
 * Servers, Clients and Tools & policy screens share. "Routed through Airlock" is not "protected".
 */
import { describe, expect, it } from 'vitest'
import { validatePolicy } from '../../src/shared/policy'
import { describeProtection, toolVerdict } from '../../src/shared/protection'
import { classifyTool } from '../../src/shared/risk'

const TOOLS = ['logout', 'get_messages', 'send_message', 'delete_chat']

function verdicts(policy: object, floor: 'critical' | 'high' | 'off' = 'critical') {
  const v = validatePolicy(JSON.stringify(policy), 'policy')
  if (!v.ok) throw new Error('bad policy')
  return TOOLS.map((t) => toolVerdict(v.policy, t, classifyTool({ name: t }), floor, 0))
}

describe('describeProtection', () => {
  it('no policy of its own: only the risk floor, every other call allowed; a proposal is not protection', () => {
    const p = describeProtection({
      ownPolicy: false,
      posture: 'allow',
      riskFloor: 'critical',
      tools: verdicts({ version: '1', default: 'allow' }),
    })
    expect(p.level).toBe('floor')
    expect(p.label).toBe('only the risk floor')
    expect(p.floorTools.map((t) => t.name)).toEqual(['logout', 'delete_chat'])
    expect(p.summary).toBe(
      'Routed through Airlock, with no policy of its own: every call is allowed by default, except that the risk floor holds 2 tools for your approval (logout, delete_chat). A proposed policy is shown in Tools & policy: it is a proposal, and applies only once you save it.',
    )
  })

  it('floor off and nothing else: not protected, said plainly', () => {
    const p = describeProtection({
      ownPolicy: false,
      posture: 'allow',
      riskFloor: 'off',
      tools: verdicts({ version: '1', default: 'allow' }, 'off'),
    })
    expect(p.level).toBe('open')
    expect(p.label).toBe('not protected')
    expect(p.summary).toMatch(
      /^Routed through Airlock, not protected, with no policy of its own: every call is allowed by default \(the risk floor is off\)/,
    )
  })

  it('a saved policy that decides tools: protected by its policy, with counts', () => {
    const p = describeProtection({
      ownPolicy: true,
      posture: 'allow',
      riskFloor: 'critical',
      tools: verdicts({
        version: '1',
        hide: ['delete_chat'],
        tools: { send_message: { rules: [{ name: 'ask', action: 'require_approval' }] } },
      }),
    })
    expect(p.level).toBe('policy')
    expect(p.summary).toBe(
      'Protected by its policy: of 4 listed tools, 1 asks for approval, 1 hidden; the risk floor holds 1 tool for your approval (logout); 1 is allowed.',
    )
    expect(p.summary).not.toContain('proposal')
  })

  it('tools not listed yet; a policy that failed to load', () => {
    expect(
      describeProtection({ ownPolicy: false, posture: 'allow', riskFloor: 'critical', tools: [] })
        .summary,
    ).toContain('its tools are not listed yet')
    expect(
      describeProtection({
        ownPolicy: true,
        posture: 'deny',
        riskFloor: 'critical',
        tools: [],
        broken: true,
      }).level,
    ).toBe('broken')
  })
})
