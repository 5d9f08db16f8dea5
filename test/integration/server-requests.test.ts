/**
 * Policy over the requests a server sends the client (`server_requests`): sampling, elicitation
 * and roots, each allow | deny | require_approval. server-everything asks for them; the SDK
 * Client (through the real shim and gateway) answers them with handlers that count their calls.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js'
import type { ApprovalAnswer } from '../../src/gateway/approvals/approvals'
import { Env, everything, textOf, waitFor } from '../helpers/harness'

let env: Env

beforeEach(() => {
  env = new Env()
})

afterEach(async () => {
  await env.cleanup()
})

/** server-everything under a policy with `server_requests`, and the gateway started. */
async function start(serverRequests?: Record<string, string>): Promise<void> {
  const policy = env.writePolicy('everything', {
    version: '1',
    default: 'allow',
    ...(serverRequests ? { server_requests: serverRequests } : {}),
  })
  env.writeConfig([everything('everything', { policy })])
  await env.startGateway()
}

/** A client that supports sampling, elicitation and roots, counting what it is asked. */
async function agent(): Promise<{ client: Client; asked: string[] }> {
  const asked: string[] = []
  const { client } = await env.connect('everything', {
    capabilities: { sampling: {}, elicitation: {}, roots: {} },
    setup: (c) => {
      c.setRequestHandler(CreateMessageRequestSchema, () => {
        asked.push('sampling')
        return {
          role: 'assistant',
          content: { type: 'text', text: 'sampled by the client' },
          model: 'test-model',
        }
      })
      c.setRequestHandler(ElicitRequestSchema, () => {
        asked.push('elicitation')
        return { action: 'decline' }
      })
      c.setRequestHandler(ListRootsRequestSchema, () => {
        asked.push('roots')
        return { roots: [{ uri: 'file:///home/user/project', name: 'project' }] }
      })
    },
  })
  return { client, asked }
}

const sample = (client: Client) =>
  client.callTool({
    name: 'trigger-sampling-request',
    arguments: { prompt: 'summarise the secret plan', maxTokens: 50 },
  })

/** The server_request records of the audit log for `method`. */
const requests = (method: string) =>
  env.auditRecords().filter((r) => r.kind === 'server_request' && r.tool === method)

describe('server_requests', () => {
  it('allow (the default, no key): the client answers, and the request is audited', async () => {
    await start()
    const { client, asked } = await agent()
    expect(textOf(await sample(client))).toContain('sampled by the client')
    expect(asked).toContain('sampling')
    expect(requests('sampling/createMessage')).toEqual([
      expect.objectContaining({ decision: 'allow', decidedBy: 'policy', server: 'everything' }),
    ])
  })

  it('deny: the server gets an error naming the policy, the client is never asked', async () => {
    await start({ sampling: 'deny', roots: 'deny' })
    const { client, asked } = await agent()
    const res = await sample(client)
    expect(res.isError).toBe(true)
    expect(textOf(res)).toContain(
      '[Airlock policy] the policy of "everything" denies its sampling requests (server_requests.sampling: deny); the client was not asked',
    )
    // server-everything asks for the roots as soon as the client says it has them.
    await waitFor(() => requests('roots/list').length > 0, 10_000, 'the roots request')
    expect(asked).toEqual([])
    expect(requests('sampling/createMessage')).toEqual([
      expect.objectContaining({ decision: 'deny', decidedBy: 'policy' }),
    ])
    expect(requests('roots/list')[0]).toMatchObject({ decision: 'deny', decidedBy: 'policy' })
    // airlock audit lists them, marked as requests the server sent (↩).
    const tail = await env.run(['audit', 'tail', '-n', '50'])
    expect(tail.stdout).toMatch(/↩ deny\s+everything\s+sampling\/createMessage/)
    expect(tail.stdout).toMatch(/↩ deny\s+everything\s+roots\/list/)
    // The audit holds the request's params (the prompt), as it holds a call's arguments.
    expect(JSON.stringify(requests('sampling/createMessage')[0]?.args)).toContain(
      'summarise the secret plan',
    )
  })

  it('require_approval: a person sees the prompt first; allow passes it on, deny refuses it', async () => {
    await start({ sampling: 'require_approval', elicitation: 'require_approval' })
    let answer: ApprovalAnswer = 'allow_once'
    const approver = await env.approver(() => answer)
    const { client, asked } = await agent()

    expect(textOf(await sample(client))).toContain('sampled by the client')
    expect(approver.requested).toHaveLength(1)
    expect(approver.requested[0]).toMatchObject({
      server: 'everything',
      tool: 'sampling/createMessage',
      serverRequest: 'sampling',
      reason: `"everything" asks a completion from the client's model (sampling)`,
    })
    expect(approver.requested[0]?.argsExcerpt).toContain('summarise the secret plan')
    expect(approver.requested[0]?.argsExcerpt).toContain('You are a helpful test server.')
    expect(asked).toEqual(['sampling'])

    answer = 'deny'
    const denied = await sample(client)
    expect(denied.isError).toBe(true)
    expect(textOf(denied)).toContain(
      '[Airlock policy] the user denied the sampling request of "everything"; the client was not asked',
    )
    const elicit = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} })
    expect(textOf(elicit)).toContain('the user denied the elicitation request')
    expect(asked).toEqual(['sampling']) // asked once: the allowed request only
    expect(approver.requested.map((r) => r.serverRequest)).toEqual([
      'sampling',
      'sampling',
      'elicitation',
    ])
    expect(requests('sampling/createMessage').map((r) => [r.decision, r.decidedBy])).toEqual([
      ['approved', 'user'],
      ['denied_by_user', 'user'],
    ])
    // A server request leaves no grant behind, whatever the answer's scope.
    const control = await env.control()
    expect(await control.api.grants.list()).toEqual([])
  })
})
