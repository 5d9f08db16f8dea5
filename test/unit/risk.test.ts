import { describe, expect, it } from 'vitest'
import { parsePolicy } from '../../src/shared/policy/parse'
import { decide } from '../../src/shared/policy/engine'
import { CounterStore } from '../../src/shared/policy/counters'
import {
  classReason,
  classifyTool,
  compareRisk,
  nameTokens,
  proposePolicy,
  proposedAction,
  type ToolInfo,
} from '../../src/shared/risk'

const cls = (name: string, extra: Partial<ToolInfo> = {}): string => {
  const c = classifyTool({ name, ...extra })
  return `${c.category}/${c.risk}`
}

describe('nameTokens', () => {
  it('splits snake, kebab, dotted and camel case', () => {
    expect(nameTokens('deleteRepo')).toEqual(['delete', 'repo'])
    expect(nameTokens('get-annotated-message')).toEqual(['get', 'annotated', 'message'])
    expect(nameTokens('repo.delete_all')).toEqual(['repo', 'delete', 'all'])
    expect(nameTokens('HTTPRequest')).toEqual(['http', 'request'])
  })
})

describe('classifyTool: names', () => {
  it.each([
    ['logout', 'auth/critical'],
    ['log_out', 'auth/critical'],
    ['signOut', 'auth/critical'],
    ['revoke_token', 'auth/critical'],
    ['delete_repo', 'destructive/critical'],
    ['deleteRepo', 'destructive/critical'],
    ['drop_table', 'destructive/critical'],
    ['destroy_instance', 'destructive/critical'],
    ['repo_delete', 'destructive/critical'],
    ['get_and_delete', 'destructive/critical'],
    ['transfer', 'financial/critical'],
    ['transfer_funds', 'financial/critical'],
    ['transferFunds', 'financial/critical'],
    ['charge_card', 'financial/critical'],
    ['payInvoice', 'financial/critical'],
    ['refund_payment', 'financial/critical'],
    ['exec', 'execute/critical'],
    ['execute_sql', 'execute/critical'],
    ['run_command', 'execute/critical'],
    ['shell', 'execute/critical'],
    ['send_email', 'communication/high'],
    ['send_message', 'communication/high'],
    ['kill_process', 'destructive/high'],
    ['create_token', 'auth/high'],
    ['create_payment', 'financial/high'],
    ['place_order', 'financial/high'],
  ])('%s → %s', (name, expected) => {
    expect(cls(name)).toBe(expected)
    expect(compareRisk(classifyTool({ name }).risk, 'high')).toBeGreaterThanOrEqual(0)
  })

  it.each([
    ['get_comment', 'read/low'],
    ['read_email', 'read/low'],
    ['list_deleted_items', 'read/low'],
    ['get_balance', 'read/medium'],
    ['get_secret', 'read/medium'],
    ['create_issue', 'write/medium'],
    ['fetch', 'read/medium'],
  ])('does not over-read nouns: %s → %s', (name, expected) => {
    expect(cls(name)).toBe(expected)
  })

  it('classifies an unknown verb by its description, else as write/medium', () => {
    expect(cls('directory_tree', { description: 'Get a recursive tree view of files' })).toBe(
      'read/low',
    )
    expect(cls('frobnicate')).toBe('write/medium')
  })

  it('raises on unambiguous description phrases only', () => {
    expect(cls('frobnicate', { description: 'Runs an arbitrary shell command on the host' })).toBe(
      'execute/critical',
    )
    expect(
      cls('cleanup_space', {
        description: 'Permanently removes the workspace. This cannot be undone.',
      }),
    ).toBe('destructive/high')
    expect(cls('get_status', { description: 'Shows the status. Does not delete anything.' })).toBe(
      'read/low',
    )
  })
})

describe('classifyTool: annotations only make a class stricter', () => {
  it('ignores lying annotations that would lower the class', () => {
    const lies = {
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    }
    expect(cls('delete_repo', { annotations: lies })).toBe('destructive/critical')
    expect(cls('transfer_funds', { annotations: lies })).toBe('financial/critical')
    expect(cls('logout', { annotations: lies })).toBe('auth/critical')
    expect(
      cls('run_command', { annotations: lies, description: 'A harmless read-only helper' }),
    ).toBe('execute/critical')
    expect(cls('send_email', { annotations: lies })).toBe('communication/high')
  })

  it('raises with destructiveHint, readOnlyHint: false and openWorldHint', () => {
    expect(cls('get_thing', { annotations: { destructiveHint: true } })).toBe('destructive/high')
    expect(cls('write_file', { annotations: { readOnlyHint: false, destructiveHint: true } })).toBe(
      'destructive/high',
    )
    expect(cls('search_docs', { annotations: { readOnlyHint: false } })).toBe('write/medium')
    expect(cls('search_web', { annotations: { readOnlyHint: true, openWorldHint: true } })).toBe(
      'read/medium',
    )
    // readOnlyHint: true on a writing tool does not make it a read.
    expect(cls('create_entities', { annotations: { readOnlyHint: true } })).toBe('write/medium')
  })
})

describe('classifyTool: the reference servers', () => {
  const ro = {
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  }
  it('server-everything', () => {
    expect(cls('echo', { annotations: ro })).toBe('read/low')
    expect(cls('get-sum', { annotations: ro })).toBe('read/low')
    expect(cls('get-tiny-image', { annotations: ro })).toBe('read/low')
    expect(cls('get-annotated-message', { annotations: ro })).toBe('read/low')
    // It returns every environment variable: secrets included.
    expect(cls('get-env', { annotations: ro })).toBe('read/medium')
    expect(
      cls('gzip-file-as-resource', {
        annotations: {
          readOnlyHint: false,
          destructiveHint: false,
          idempotentHint: true,
          openWorldHint: true,
        },
      }),
    ).toBe('write/medium')
    expect(
      cls('toggle-simulated-logging', {
        annotations: { readOnlyHint: false, destructiveHint: false },
      }),
    ).toBe('write/medium')
    expect(
      cls('simulate-research-query', {
        annotations: { readOnlyHint: false, destructiveHint: false },
      }),
    ).toBe('write/medium')
  })

  it('server-memory', () => {
    const w = {
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
      openWorldHint: false,
    }
    const d = {
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: false,
    }
    expect(cls('create_entities', { annotations: w })).toBe('write/medium')
    expect(cls('create_relations', { annotations: w })).toBe('write/medium')
    expect(cls('add_observations', { annotations: w })).toBe('write/medium')
    expect(cls('delete_entities', { annotations: d })).toBe('destructive/critical')
    expect(cls('delete_observations', { annotations: d })).toBe('destructive/critical')
    expect(cls('delete_relations', { annotations: d })).toBe('destructive/critical')
    expect(cls('read_graph', { annotations: ro })).toBe('read/low')
    expect(cls('search_nodes', { annotations: ro })).toBe('read/low')
    expect(cls('open_nodes', { annotations: ro })).toBe('read/low')
  })

  it('server-filesystem', () => {
    const r = { readOnlyHint: true, openWorldHint: false }
    for (const name of [
      'read_file',
      'read_text_file',
      'read_media_file',
      'read_multiple_files',
      'list_directory',
      'list_directory_with_sizes',
      'search_files',
      'get_file_info',
      'list_allowed_directories',
    ]) {
      expect(cls(name, { annotations: r }), name).toBe('read/low')
    }
    expect(
      cls('directory_tree', {
        annotations: r,
        description: 'Get a recursive tree view of files and directories as a JSON structure.',
      }),
    ).toBe('read/low')
    expect(cls('write_file', { annotations: { readOnlyHint: false, destructiveHint: true } })).toBe(
      'destructive/high',
    )
    expect(cls('edit_file', { annotations: { readOnlyHint: false, destructiveHint: true } })).toBe(
      'destructive/high',
    )
    expect(cls('move_file', { annotations: { readOnlyHint: false, destructiveHint: true } })).toBe(
      'destructive/high',
    )
    expect(
      cls('create_directory', { annotations: { readOnlyHint: false, destructiveHint: false } }),
    ).toBe('write/medium')
  })
})

describe('proposePolicy', () => {
  const tools: ToolInfo[] = [
    { name: 'read_graph', annotations: { readOnlyHint: true } },
    { name: 'create_entities' },
    { name: 'send_email' },
    { name: 'delete_entities', annotations: { readOnlyHint: true } },
    { name: 'weird "name": with\nnewline' },
  ]

  it.each(['allow', 'deny', 'require_approval'] as const)(
    'is a valid Intercept policy for posture %s, with each class commented',
    (posture) => {
      const text = proposePolicy(tools, posture)
      const policy = parsePolicy(text, 'proposed.yaml')
      expect(policy.version).toBe('1')
      expect(policy.default).toBe(posture)
      expect(text).toContain('# read_graph: read, low risk')
      expect(text).toContain('# delete_entities: destructive, critical risk')
      expect(text).toContain('# send_email: communication, high risk')
      const action = (tool: string): string =>
        decide(policy, { tool, args: {}, sessionId: 's' }, new CounterStore(), 0).kind
      expect(action('read_graph')).toBe('allow')
      expect(action('delete_entities')).toBe('needs_approval')
      const rest = { allow: 'allow', deny: 'deny', require_approval: 'needs_approval' }[posture]
      expect(action('create_entities')).toBe(rest)
      expect(action('send_email')).toBe(rest)
      expect(action('weird "name": with\nnewline')).toBe(rest)
    },
  )

  it('works without known tools', () => {
    const policy = parsePolicy(proposePolicy([], 'deny'), 'p.yaml')
    expect(policy.default).toBe('deny')
    expect(policy.tools).toEqual([])
  })

  it('maps classes to actions', () => {
    expect(proposedAction({ category: 'read', risk: 'low' }, 'deny')).toBe('allow')
    expect(proposedAction({ category: 'financial', risk: 'critical' }, 'allow')).toBe(
      'require_approval',
    )
    expect(proposedAction({ category: 'write', risk: 'high' }, 'deny')).toBe('deny')
  })
})

describe('classifyTool: code, deploys and whole stores are critical', () => {
  it.each([
    ['run_sql', {}, 'execute/critical'],
    ['invoke_lambda', {}, 'execute/critical'],
    ['run_container', {}, 'execute/critical'],
    ['evaluate_script', {}, 'execute/critical'],
    ['deploy', {}, 'execute/critical'],
    ['clear_graph', {}, 'destructive/critical'],
    [
      'run',
      { description: 'Execute a deployed function with provided arguments' },
      'execute/critical',
    ],
    ['run_query', { description: 'Execute SQL queries on the cluster' }, 'execute/critical'],
    ['prune', { description: 'Clear all stored data and reset the graph' }, 'destructive/critical'],
  ])('%s → %s', (name, extra, expected) => {
    expect(cls(name, extra)).toBe(expected)
  })

  it('a read-only run, or a read that mentions SQL, stays below critical', () => {
    expect(cls('runOneoffQuery', { description: 'Execute sandboxed read-only JS queries' })).toBe(
      'execute/high',
    )
    expect(cls('query_clickhouse', { description: 'Execute SQL with macro substitution' })).toBe(
      'read/low',
    )
    expect(cls('run_report', { description: 'Run a funnels query' })).toBe('execute/high')
    expect(cls('clear_selection')).toBe('destructive/high')
    expect(cls('suggest_aws_commands')).toBe('read/low')
  })
})

describe('classReason: why a tool is in its class', () => {
  it('names the category and the evidence', () => {
    expect(classReason(classifyTool({ name: 'logout' }))).toBe('auth — "logout"')
    expect(classReason(classifyTool({ name: 'delete_chat' }))).toBe('destructive — "delete"')
    expect(classReason(classifyTool({ name: 'log_out' }))).toBe('auth — "log_out"')
    expect(
      classReason(classifyTool({ name: 'get_x', annotations: { destructiveHint: true } })),
    ).toBe('destructive — destructiveHint')
    expect(
      classReason(
        classifyTool({ name: 'frobnicate', description: 'Runs an arbitrary shell command' }),
      ),
    ).toBe('execute — "Runs an arbitrary shell command"')
  })
})
