/**
 * `airlock pause` and `airlock resume`: every tool call is denied while paused. Through the
 * running gateway this is the control API's `pause.set`, which takes effect at once and is saved
 * in config.json (`settings.paused`), so it holds after a restart; with no gateway running the
 * setting is written to config.json for the next one.
 */
import { dataDir, dataPaths } from '../node/paths'
import { changeConfig, noExtraPositionals, parseCommandArgs } from './args'
import { cliErrors } from './cli-error'
import { runningGateway } from './gateway-client'

/** Runs `airlock pause` (paused: true) or `airlock resume` (paused: false). */
export async function pauseCommand(paused: boolean, argv: string[]): Promise<number> {
  const name = paused ? 'pause' : 'resume'
  const { positionals } = parseCommandArgs(name, argv, {})
  noExtraPositionals(positionals, 0, `airlock ${name}`)
  const home = dataDir()
  const client = await runningGateway(home)
  if (client) {
    try {
      await cliErrors(client.api.pause.set({ paused }))
    } finally {
      client.close()
    }
  } else {
    changeConfig(dataPaths(home).config, (c) => ({ ...c, settings: { ...c.settings, paused } }))
  }
  const where = client ? 'the running gateway' : 'the next gateway to start'
  process.stdout.write(
    paused
      ? `Paused: ${where} denies every tool call until "airlock resume" (saved in config.json: it holds after a restart).\n`
      : `Resumed: ${where} lets tool calls through its policies again.\n`,
  )
  return 0
}
