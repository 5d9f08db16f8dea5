import { afterEach, expect, it } from 'vitest'
import { Env, everything } from '../helpers/harness'

let env: Env
afterEach(async () => env?.cleanup())

it('smoke', async () => {
  env = new Env()
  env.writeConfig([everything()])
  let t = Date.now()
  await env.startGateway()
  console.log('gw', Date.now() - t); t = Date.now()
  const { client } = await env.connect('everything')
  console.log('connect', Date.now() - t); t = Date.now()
  const tools = await client.listTools()
  console.log(tools.tools.map((t) => t.name), Date.now() - t)
  const r = await client.callTool({ name: 'echo', arguments: { message: 'hi' } })
  console.log(JSON.stringify(r))
  console.log(env.gatewayOutput)
})
