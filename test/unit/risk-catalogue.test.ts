/**
 * The classifier against an outside catalogue: Intercept's 53 policy templates sort 967 tools
 * into Read, Write, Execute, Destructive, Financial and Other. The risk floor trusts the
 * classifier, so: every Destructive tool is critical; running code, SQL, containers and deploys
 * is critical; no Read tool is critical. Prints the table of categories against classes.
 */
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { RISKS, classifyTool } from '../../src/shared/risk'
import { CATALOGUE_DIR, readCatalogue, type CatalogueTool } from '../helpers/intercept-catalogue'

const present = fs.existsSync(CATALOGUE_DIR)
if (!present) {
  if (process.env.CI) throw new Error(`${CATALOGUE_DIR} is missing: CI must run the catalogue test`)
  process.stderr.write(
    `\n⚠ test/unit/risk-catalogue.test.ts skipped: no Intercept catalogue at ${CATALOGUE_DIR}\n\n`,
  )
}

const classOf = (t: CatalogueTool): ReturnType<typeof classifyTool> =>
  classifyTool({ name: t.name, description: t.description })

describe.skipIf(!present)("the classifier against Intercept's catalogue", () => {
  const tools = present ? readCatalogue() : []

  it('reads all 967 tools in their sections, and prints the table', () => {
    const sections = ['Read', 'Write', 'Execute', 'Destructive', 'Financial', 'Other']
    const table = new Map(sections.map((s) => [s, new Map(RISKS.map((r) => [r, 0]))]))
    for (const t of tools) {
      const row = table.get(t.section)
      expect(row, `${t.file}: unknown section ${t.section}`).toBeDefined()
      const risk = classOf(t).risk
      row?.set(risk, (row.get(risk) ?? 0) + 1)
    }
    const lines = [
      `Intercept section   ${RISKS.map((r) => r.padStart(9)).join('')}     total`,
      ...sections.map((s) => {
        const row = table.get(s) as Map<string, number>
        const total = [...row.values()].reduce((a, b) => a + b, 0)
        return `${s.padEnd(20)}${RISKS.map((r) => String(row.get(r)).padStart(9)).join('')}${String(total).padStart(10)}`
      }),
    ]
    process.stdout.write(
      `\nIntercept's categories against Airlock's risk classes:\n${lines.join('\n')}\n\n`,
    )
    expect(tools).toHaveLength(967)
    const count = (s: string): number => tools.filter((t) => t.section === s).length
    expect(sections.map(count)).toEqual([445, 173, 45, 36, 34, 234])
  })

  it('classifies every Destructive tool critical', () => {
    const missed = tools
      .filter((t) => t.section === 'Destructive' && classOf(t).risk !== 'critical')
      .map((t) => `${t.name} (${classOf(t).risk})`)
    expect(missed).toEqual([])
  })

  it('classifies no Read tool critical', () => {
    const over = tools
      .filter((t) => t.section === 'Read' && classOf(t).risk === 'critical')
      .map((t) => t.name)
    expect(over).toEqual([])
  })

  it.each([
    'evaluate_script',
    'run_sql',
    'run_sql_transaction',
    'run_query',
    'run_container',
    'deploy',
    'deploy_edge_function',
    'invoke_lambda',
    'run_rollback_pipeline',
    'execute_sql',
    'execute_blender_code',
  ])('running code, SQL, containers and deploys is critical: %s', (name) => {
    const found = tools.filter((t) => t.name === name)
    expect(found.length).toBeGreaterThan(0)
    for (const t of found) expect(classOf(t).risk, `${t.file}: ${t.name}`).toBe('critical')
  })

  it('help text about commands is not a command (suggest_aws_commands)', () => {
    const t = tools.find((x) => x.name === 'suggest_aws_commands') as CatalogueTool
    expect(classOf(t).risk).not.toBe('critical')
  })
})
