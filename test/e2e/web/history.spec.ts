/**
 * End to end: the History (Activity) screen in Chromium against `airlock serve`, over a log
 * seeded with calls of every decision across several days (written by the real AuditLog) plus
 * live calls from the SDK Client through the real shim. Presets, the "blocked" group, several
 * decisions at once, click-to-filter, the arguments column, the chart following the filters,
 * the folded filter row, a 900 px window, and a link to one call.
 */
import path from 'node:path'
import type { Page } from '@playwright/test'
import { AuditLog } from '../../../src/gateway/audit'
import type { AuditDecision } from '../../../src/shared/contract/audit-record'
import { screenshot } from '../../helpers/ui'
import type { Env } from '../../helpers/harness'
import { everything, textOf, waitFor } from '../../helpers/harness'
import { expect, test } from './fixtures'

let env: Env
let page: Page
let dialogs: string[]

test.beforeEach(({ page: p, env: e }) => {
  page = p
  env = e
  dialogs = []
})

const DAY = 86_400_000
const BLOCKED: AuditDecision[] = [
  'deny',
  'hidden',
  'rate_limited',
  'denied_by_user',
  'timeout',
  'paused',
]
const HOSTILE = '<img src=x onerror=alert(1)>\u202eevil'

/** Local midnight today. */
function midnight(now: number): number {
  const d = new Date(now)
  d.setHours(0, 0, 0, 0)
  return d.getTime()
}

/**
 * Writes calls into the audit log before the gateway starts: for each of three days (today,
 * yesterday, four days ago) one call of each blocked decision, two allowed and one approved; the
 * hostile arguments on one of today's calls. Returns the call ids by day.
 */
function seed(
  home: string,
  now: number,
): { today: string[]; yesterday: string[]; older: string[] } {
  const days = {
    older: midnight(now) - 4 * DAY + 10 * 3_600_000,
    yesterday: midnight(now) - DAY + 11 * 3_600_000,
    // Today's seeded calls are an hour old at most, and never before midnight.
    today: Math.max(midnight(now) + 1000, now - 3_600_000),
  }
  const out = { today: [] as string[], yesterday: [] as string[], older: [] as string[] }
  for (const day of ['older', 'yesterday', 'today'] as const) {
    let t = days[day]
    const log = AuditLog.open({ dir: path.join(home, 'audit'), now: () => t })
    const decisions: AuditDecision[] = ['allow', ...BLOCKED, 'approved', 'allow']
    decisions.forEach((decision, k) => {
      t += 1000
      const callId = `${day}-${k}-${decision}`
      const tool = k % 3 === 0 ? 'get-env' : 'echo'
      out[day].push(callId)
      log.append({
        kind: 'call',
        callId,
        session: `seed-${day}`,
        client: k % 2 ? 'cursor-vscode' : 'claude-ai',
        server: 'everything',
        tool,
        args:
          day === 'today' && k === 0
            ? { message: HOSTILE, long: 'x'.repeat(400) }
            : { message: `${day} ${decision}` },
        decision,
        decidedBy: decision === 'denied_by_user' ? 'user' : 'policy',
      })
      if (decision === 'allow' || decision === 'approved') {
        t += 40
        log.append({
          kind: 'outcome',
          callId,
          session: `seed-${day}`,
          server: 'everything',
          tool,
          outcome: 'ok',
          latencyMs: 40,
        })
      }
    })
    void log.close()
  }
  return out
}

async function start(viewport = { width: 1280, height: 800 }): Promise<ReturnType<typeof seed>> {
  const ids = seed(env.home, Date.now())
  const file = env.writePolicy('everything', {
    version: '1',
    default: 'allow',
    tools: { 'get-sum': { rules: [{ name: 'no sums', action: 'deny', on_deny: 'no sums' }] } },
  })
  env.writeConfig([everything('everything', { policy: file })])
  await env.startGateway({ port: 0 })
  if (!env.uiUrl) throw new Error(`airlock serve printed no web UI URL:\n${env.gatewayOutput}`)
  await page.setViewportSize(viewport)
  page.on('dialog', (d) => {
    dialogs.push(d.message())
    void d.dismiss()
  })
  return ids
}

async function open(hash = ''): Promise<void> {
  await page.goto(`${env.uiUrl}${hash}`)
  await page.locator('[data-connection=open]').waitFor()
}

const rows = () => page.getByTestId('call-row')
const rowIds = async (): Promise<string[]> =>
  (await rows().evaluateAll((els) => els.map((e) => e.getAttribute('data-call-id') ?? ''))).sort()

/**
 * Waits until the list holds exactly the calls `want`: its count says so, and every row drawn
 * (the table draws only the rows in view) is one of them.
 */
async function expectRows(want: string[], what: string): Promise<void> {
  const count = page.getByTestId('call-count')
  const ok = async (): Promise<boolean> => {
    const text = (await count.textContent()) ?? ''
    if (!text.startsWith(`${want.length} ${want.length === 1 ? 'call' : 'calls'} shown`))
      return false
    const drawn = await rowIds()
    return drawn.length > 0 && drawn.every((id) => want.includes(id))
  }
  await waitFor(ok, 10_000, what).catch(async (err: unknown) => {
    throw new Error(
      `${(err as Error).message}: ${await count.textContent()}, drawn ${JSON.stringify(await rowIds())}`,
    )
  })
}

/** Sets the decision picker to exactly `picks` (labels as shown). */
async function pickDecisions(picks: string[]): Promise<void> {
  const picker = page.getByTestId('decision-picker')
  await picker.locator('summary').click()
  for (const box of await picker.getByRole('checkbox').all()) await box.uncheck()
  for (const p of picks) await picker.getByRole('checkbox', { name: p, exact: true }).check()
  await picker.locator('summary').click()
}

/** The number of calls the chart counts (from its bars' accessible names). */
async function chartTotal(): Promise<number> {
  const labels = await page
    .getByTestId('call-chart')
    .getByRole('img')
    .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''))
  return labels.reduce((n, l) => n + Number(/: (\d+) calls/.exec(l)?.[1] ?? 0), 0)
}

test.describe('history', () => {
  test('presets, the blocked group, several decisions, click-to-filter, the chart and the arguments column', async () => {
    const ids = await start()
    await open()
    const all = [...ids.older, ...ids.yesterday, ...ids.today]
    await expectRows(all, 'every seeded call')

    // Presets: today, yesterday, last 24 h, last 7 days.
    const time = page.getByRole('group', { name: 'Time' })
    await time.getByRole('button', { name: 'Yesterday' }).click()
    await expectRows(ids.yesterday, 'yesterday')
    expect(await time.getByRole('button', { name: 'Yesterday' }).getAttribute('aria-pressed')).toBe(
      'true',
    )
    await time.getByRole('button', { name: 'Today' }).click()
    await expectRows(ids.today, 'today')
    await time.getByRole('button', { name: 'Last 7 days' }).click()
    await expectRows(all, 'last 7 days')
    await time.getByRole('button', { name: 'Last 24 h' }).click()
    await waitFor(
      async () => (await rowIds()).every((id) => !id.startsWith('older')),
      10_000,
      'last 24 h',
    )
    // The chart follows the time range and the filters: it counts what the list shows.
    await time.getByRole('button', { name: 'Today' }).click()
    await expectRows(ids.today, 'today again')
    await waitFor(async () => (await chartTotal()) === ids.today.length, 10_000, 'chart: today')

    // The blocked group: the six kinds of "not run".
    await pickDecisions(['blocked'])
    const blockedToday = ids.today.filter((id) => BLOCKED.some((d) => id.endsWith(`-${d}`)))
    await expectRows(blockedToday, 'blocked today')
    expect(blockedToday).toHaveLength(6)
    expect(await page.getByTestId('decision-picker').locator('summary').textContent()).toContain(
      'blocked',
    )
    await waitFor(async () => (await chartTotal()) === 6, 10_000, 'chart: blocked')
    await page.getByTestId('call-chart').getByTestId('chart-filtered').waitFor()

    // Several decisions at once.
    await pickDecisions(['approved', 'timed out'])
    await expectRows(
      ids.today.filter((id) => id.endsWith('-approved') || id.endsWith('-timeout')),
      'approved or timed out',
    )
    await pickDecisions([])
    await expectRows(ids.today, 'any decision')

    // Click a cell: only that tool; the filter shows as a chip while the filters are folded.
    const getEnv = rows().filter({ has: page.getByTestId('call-tool').getByText('get-env') })
    await getEnv.first().getByTestId('filter-tool').click()
    await expectRows(
      ids.today.filter((_, k) => k % 3 === 0),
      'tool get-env',
    )
    await page.getByTestId('filter-chip').getByText('tool: get-env').waitFor()
    await rows().first().getByTestId('filter-client').click()
    expect((await rowIds()).length).toBeGreaterThan(0)
    await page.getByRole('button', { name: /^Remove client/ }).click()
    await page.getByRole('button', { name: /^Remove tool/ }).click()
    await expectRows(ids.today, 'chips removed')

    // The arguments column: escaped, truncated, inert.
    const hostile = page.locator(`[data-call-id="${ids.today[0]}"]`).getByTestId('call-args-cell')
    const shown = (await hostile.textContent()) ?? ''
    expect(shown).toContain('<img src=x onerror=alert(1)>')
    expect(shown).toContain('\\u202e')
    expect(shown.length).toBeLessThan(200)
    expect(await page.locator('img').count()).toBe(0)

    // Suggestions for tool and client (from the log), and the folded row opens.
    await page.getByRole('button', { name: 'More filters' }).click()
    const tools = await page
      .getByTestId('tool-suggestions')
      .locator('option')
      .evaluateAll((els) => els.map((e) => e.getAttribute('value') ?? ''))
    expect(tools).toEqual(expect.arrayContaining(['echo', 'get-env']))
    const clients = await page
      .getByTestId('client-suggestions')
      .locator('option')
      .evaluateAll((els) => els.map((e) => e.getAttribute('value') ?? ''))
    expect(clients).toEqual(expect.arrayContaining(['claude-ai', 'cursor-vscode']))
    // Live calls join the suggestions.
    const agent = (await env.connect('everything', { name: 'history-agent' })).client
    expect(textOf(await agent.callTool({ name: 'echo', arguments: { message: 'live' } }))).toBe(
      'Echo: live',
    )
    await waitFor(
      async () =>
        (
          await page
            .getByTestId('client-suggestions')
            .locator('option')
            .evaluateAll((els) => els.map((e) => e.getAttribute('value') ?? ''))
        ).includes('history-agent'),
      10_000,
      'the live client in the suggestions',
    )
    // Typing a year in the date field: four digits, then the next part.
    const from = page.getByLabel('From', { exact: true })
    expect((await from.boundingBox())!.width).toBeGreaterThan(200)
    await from.focus()
    await page.keyboard.type('01022026103000A')
    expect(await from.inputValue()).toMatch(/^2026-01-02T10:30(:00)?$/)
    await page.getByRole('button', { name: 'Clear' }).click()
    await page.getByRole('button', { name: 'Fewer filters' }).click()
    await screenshot(page, 'history')
    expect(dialogs).toEqual([])
  })

  test('a link to one call opens its details, even when the call is outside the filters', async () => {
    const ids = await start()
    const target = ids.older[2]!
    await open(`&call=${target}`)
    const details = page.getByTestId('call-details')
    await details.waitFor()
    expect(await details.textContent()).toContain(target)
    expect(await details.getByTestId('call-args').textContent()).toContain('older hidden')
    // The link the details give is this page with #call=<id>, never the token.
    const href = (await details.getByTestId('call-link').getAttribute('href')) ?? ''
    expect(href).toMatch(new RegExp(`#call=${target}$`))
    expect(href).not.toContain('token')
    // Selecting another call puts its id in the URL; the hash opens that call after a reload.
    const other = ids.today[1]!
    await page.locator(`[data-call-id="${other}"]`).locator('[role=gridcell]').first().click()
    await waitFor(() => page.url().endsWith(`#call=${other}`), 5000, 'the URL names the call')
    await page.reload()
    await page.locator('[data-connection=open]').waitFor()
    await details.waitFor()
    expect(await details.textContent()).toContain(other)
    // An unknown id says so.
    await page.evaluate('window.location.hash = "call=no-such-call"')
    await page.getByText('No call with id no-such-call is in the audit log.').waitFor()
  })

  test('at 900 px wide no column is cut off and the filters fit one row', async () => {
    const ids = await start({ width: 900, height: 700 })
    await open()
    await expectRows([...ids.older, ...ids.yesterday, ...ids.today], 'every call')
    const table = page.getByTestId('call-table')
    const box = (await table.boundingBox())!
    expect(box.x + box.width).toBeLessThanOrEqual(900)
    // Every visible header cell ends inside the table, and its text is not clipped.
    const heads = await table.getByRole('columnheader').evaluateAll((els) =>
      els
        .filter((e) => e.getClientRects().length > 0)
        .map((e) => {
          const r = e.getBoundingClientRect()
          return {
            text: e.textContent ?? '',
            right: r.right,
            clipped: e.scrollWidth > e.clientWidth + 1,
          }
        }),
    )
    expect(heads.map((h) => h.text)).toEqual(
      expect.arrayContaining(['Time', 'Client', 'Server', 'Tool', 'Arguments', 'Decision']),
    )
    for (const h of heads) {
      expect(h.right, h.text).toBeLessThanOrEqual(box.x + box.width)
      expect(h.clipped, h.text).toBe(false)
    }
    // The time fits its cell (no wrap in a 32 px row).
    const timeCell = rows().first().locator('[role=gridcell]').first()
    expect(await timeCell.evaluate((e) => e.scrollWidth <= e.clientWidth + 1)).toBe(true)
    // Filters folded: one row.
    const filters = page.getByRole('search', { name: 'Filter calls' })
    expect((await filters.boundingBox())!.height).toBeLessThan(70)
    // Details float over the list at this width and close with their button.
    await rows().first().locator('[role=gridcell]').first().click()
    await page.getByTestId('call-details').waitFor()
    await screenshot(page, 'history-900')
    await page.getByRole('button', { name: 'Close details' }).click()
  })
})
