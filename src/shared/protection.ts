/**
 * One truth about protection, in words: what Airlock does with a server's calls, said the same
 * way by `airlock policy show`, the Servers and Clients screens and the Tools & policy rows.
 * "Routed through Airlock" is not "protected": a server whose calls are all allowed by default
 * says so, and a proposed policy protects nothing until it is saved.
 */
import { CounterStore, decide } from './policy'
import type { Policy } from './policy'
import { classReason, type ToolClass } from './risk'

/** What the policy (with the risk floor) does with a call of a tool with no arguments. */
export type ToolAction = 'allow' | 'deny' | 'hide' | 'require_approval' | 'rate_limited'

/** One tool's verdict; `floor` says why when the risk floor asks, not the policy. */
export interface ToolVerdict {
  name: string
  action: ToolAction
  floor?: string
}

/** The setting `riskFloor`. */
export type RiskFloorSetting = 'critical' | 'high' | 'off'

/**
 * The verdict for `tool` (its class `cls`) under `policy` and the floor, from the pure engine with
 * empty counters: the same call the gateway would judge, with no arguments.
 */
export function toolVerdict(
  policy: Policy,
  tool: string,
  cls: ToolClass | undefined,
  riskFloor: RiskFloorSetting,
  now: number,
): ToolVerdict {
  const d = decide(
    policy,
    { tool, args: {}, sessionId: 'airlock-preview', ...(cls ? { risk: cls } : {}) },
    new CounterStore(),
    now,
    { riskFloor },
  )
  switch (d.kind) {
    case 'allow':
      return { name: tool, action: 'allow' }
    case 'deny':
      return { name: tool, action: 'deny' }
    case 'hidden':
      return { name: tool, action: 'hide' }
    case 'rate_limited':
      return { name: tool, action: 'rate_limited' }
    case 'needs_approval':
      return d.floor
        ? { name: tool, action: 'require_approval', floor: classReason(d.floor) }
        : { name: tool, action: 'require_approval' }
    default: {
      const never: never = d
      throw new Error(`unhandled decision ${JSON.stringify(never)}`)
    }
  }
}

/**
 * How protected a server is: `policy` (its saved policy asks, denies, hides or limits something),
 * `floor` (only the risk floor holds some tools; every other call is allowed), `open` (every call is
 * allowed), `unlisted` (its tools are not known yet), `broken` (its policy failed to load: every call
 * is denied).
 */
export type ProtectionLevel = 'policy' | 'floor' | 'open' | 'unlisted' | 'broken'

/** What `describeProtection` needs. */
export interface ProtectionInput {
  /** Whether the server has a saved policy of its own (a file or inline); false: none yet. */
  ownPolicy: boolean
  /** The effective policy's default posture. */
  posture: 'allow' | 'deny' | 'require_approval'
  riskFloor: RiskFloorSetting
  /** The verdicts of the tools the server listed last; empty when it has not listed any. */
  tools: readonly ToolVerdict[]
  /** The policy failed to load (the gateway denies every call). */
  broken?: boolean
}

/** The level, one sentence saying it, and the tools the floor holds. */
export interface Protection {
  level: ProtectionLevel
  /** Short: "protected by its policy", "not protected", "only the risk floor"… */
  label: string
  /** One or two sentences, the same wherever it is shown. */
  summary: string
  /** The tools the risk floor holds for approval (name and why). */
  floorTools: { name: string; why: string }[]
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

const PROPOSAL =
  'A proposed policy is shown in Tools & policy: it is a proposal, and applies only once you save it.'

/** Says how protected a server is; see ProtectionLevel. */
export function describeProtection(input: ProtectionInput): Protection {
  const floorTools = input.tools
    .filter((t) => t.action === 'require_approval' && t.floor !== undefined)
    .map((t) => ({ name: t.name, why: t.floor as string }))
  const noPolicy = input.ownPolicy ? '' : ', with no policy of its own'
  const proposal = input.ownPolicy ? '' : ` ${PROPOSAL}`
  const floorWords =
    input.riskFloor === 'off'
      ? 'the risk floor is off'
      : `the risk floor holds ${input.riskFloor === 'high' ? 'high and critical' : 'critical'} tools for your approval`
  if (input.broken)
    return {
      level: 'broken',
      label: 'every call denied',
      summary:
        'Its policy could not be loaded, so Airlock denies every call until the policy is fixed.',
      floorTools,
    }
  if (input.tools.length === 0) {
    const posture =
      input.posture === 'allow'
        ? 'every other call is allowed by default'
        : input.posture === 'deny'
          ? 'every other call is denied by default'
          : 'every other call asks for your approval by default'
    return {
      level: 'unlisted',
      label: 'tools not listed yet',
      summary: `Routed through Airlock${noPolicy}; its tools are not listed yet, so they are judged by their names: ${floorWords}, and ${posture}.${proposal}`,
      floorTools,
    }
  }
  const count = (a: ToolAction): number =>
    input.tools.filter((t) => t.action === a && !(a === 'require_approval' && t.floor)).length
  const asks = count('require_approval')
  const denied = count('deny')
  const hidden = count('hide')
  const limited = count('rate_limited')
  const allowed = count('allow')
  const n = input.tools.length
  const held =
    floorTools.length > 0
      ? `the risk floor holds ${plural(floorTools.length, 'tool')} for your approval (${floorTools
          .slice(0, 5)
          .map((t) => t.name)
          .join(', ')}${floorTools.length > 5 ? ', …' : ''})`
      : ''
  if (asks + denied + hidden + limited > 0) {
    const parts = [
      asks ? `${asks} ${asks === 1 ? 'asks' : 'ask'} for approval` : '',
      denied ? `${denied} denied` : '',
      hidden ? `${hidden} hidden` : '',
      limited ? `${limited} rate-limited` : '',
    ].filter(Boolean)
    return {
      level: 'policy',
      label: 'protected by its policy',
      summary: `Protected by its policy: of ${plural(n, 'listed tool')}, ${parts.join(', ')}${held ? `; ${held}` : ''}; ${allowed} ${allowed === 1 ? 'is' : 'are'} allowed.`,
      floorTools,
    }
  }
  if (floorTools.length > 0)
    return {
      level: 'floor',
      label: 'only the risk floor',
      summary: `Routed through Airlock${noPolicy}: every call is allowed by default, except that ${held}.${proposal}`,
      floorTools,
    }
  return {
    level: 'open',
    label: 'not protected',
    summary: `Routed through Airlock, not protected${noPolicy}: every call is allowed by default (${input.riskFloor === 'off' ? 'the risk floor is off' : 'no listed tool reaches the risk floor'}).${proposal}`,
    floorTools,
  }
}
