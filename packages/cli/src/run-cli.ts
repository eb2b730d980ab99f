import { parseArgs } from 'node:util';
import type { CliContext } from './commands/cli-context.js';
import { ConfigError } from './config/config-error.js';

const HELP = `fusion: several models behind one OpenAI-compatible API

Usage:
  fusion serve [--config FILE]     serve the API (FUSION_HOST, FUSION_PORT, FUSION_UPSTREAMS)
  fusion models [--config FILE] [--json]
                                   list the models the config serves
  fusion mcp [--config FILE]       serve the orchestrator as an MCP server on stdio
  fusion ingest <path|url>... --collection NAME [--embedding-model ID] [--splitter KIND] [--json]
                                   read files, folders and URLs into .fusion/rag/NAME
  fusion query "question" --collection NAME [--k 5] [--mode bm25|vector|hybrid] [--filter JSON] [--json]
                                   print a collection's best chunks, with their sources
  fusion keys create [--id ID] [--rpm N] [--tpm N] | list | revoke ID
                                   make an API key, list the config's keys, remove one

Environment:
  FUSION_HOST        address to listen on (default 127.0.0.1)
  FUSION_PORT        port (default 8080; 0 picks a free one)
  FUSION_UPSTREAMS   name=baseURL[,name=baseURL...], e.g. lab=http://127.0.0.1:8000/v1
  FUSION_LOG         'requests': one JSON line per request on stderr, with its x-request-id
  FUSION_MLX_MODELS  a folder of MLX model directories, served in-process as mlx/<name>

Config: fusion.config.{ts,mts,js,mjs,json} in the working directory, or --config FILE.
\`fusion <command> --help\` says more about a command.
`;

const CONFIG_OPTION = `  -c, --config FILE   the config file (default: fusion.config.{ts,mts,js,mjs,json} in the
                      working directory); its JSON Schema: @fusionkit/cli/fusion.config.schema.json`;

/** `fusion <command> --help`. */
const COMMAND_HELP: Record<string, string> = {
  serve: `fusion serve [--config FILE]

Serves the OpenAI-compatible API (/v1/chat/completions, /v1/embeddings, /v1/models, /health, also
/v1/completions and the upstreams' audio and image routes), the Anthropic Messages API
(/v1/messages), the fusion API (/api/fusion/*) and the MCP server (/mcp) of every model the config
and the environment name. Mistakes in either are listed at start, and the command exits with code 2.

Options:
${CONFIG_OPTION}

Environment (overrides the config):
  FUSION_HOST        address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  FUSION_PORT        port (default 8080; 0 picks a free one)
  FUSION_UPSTREAMS   name=baseURL[,name=baseURL...], e.g. lab=http://127.0.0.1:8000/v1
  FUSION_MLX_MODELS  a folder of MLX model directories, served in-process as mlx/<name>
  FUSION_LOG         'requests': one JSON line per request on stderr, with its x-request-id
  FUSION_METRICS     '0': no /metrics (default on)
  FUSION_TRACING     '1': OpenTelemetry spans over OTLP/HTTP (also on when OTEL_EXPORTER_OTLP_ENDPOINT
                     is set; '0' keeps it off); OTEL_SERVICE_NAME names the service (default fusion)
  FUSION_ALLOWED_HOSTS, FUSION_ALLOWED_ORIGINS
                     host names and browser origins the cross-site guard lets through

Stops gracefully on SIGTERM and SIGINT.
`,
  models: `fusion models [--config FILE] [--json]

Lists the models the config serves (as GET /v1/models would), then exits.

Options:
${CONFIG_OPTION}
  --json              one JSON document instead of one line per model
`,
  mcp: `fusion mcp [--config FILE]

Serves the orchestrator as an MCP server on stdio (for Claude Desktop, IDEs and other MCP clients).
Logs go to stderr; it exits when the client closes stdin.

Options:
${CONFIG_OPTION}
`,
  ingest: `fusion ingest <path|url>... --collection NAME [--embedding-model ID] [--splitter KIND] [--json]

Reads files, folders and URLs into the collection .fusion/rag/NAME (created on first use). Without
--embedding-model the collection is lexical only (BM25). The splitter is chosen when the collection
is created and recorded with it: later ingests split the same way.

Options:
  --collection NAME        the collection to add to (required)
  --embedding-model ID     a served embedding model, for vector and hybrid search
  --splitter KIND          auto (default), recursive, markdown or token
  --tokenizer NAME|PATH    the token splitter's tokenizer: an OpenAI model or encoding name
                           (gpt-4o, text-embedding-3-small, cl100k_base, ...), or a local
                           Hugging Face tokenizer.json or the model folder holding one
  --chunk-size N           largest chunk (characters; tokens with --splitter token)
  --chunk-overlap N        how much of a chunk the next one repeats, same unit
  --json                   print the result as JSON
${CONFIG_OPTION}
`,
  keys: `fusion keys create [--id ID] [--rpm N] [--tpm N] [--json]
fusion keys list [--config FILE] [--json]
fusion keys revoke ID [--config FILE]

create   makes a random key and prints it once, with the apiKeys entry that holds only its SHA-256
         (paste it into the config; the key itself goes to its user).
list     prints the config's keys by id, with how they are stored and their limits; never a key.
revoke   removes the key from a JSON config (written in place); for a config in code, says what to
         remove. Running servers keep their keys until restarted.

Options:
  --id ID        the new key's name in logs, limits and job ownership (default: key-<12 hex of its hash>)
  --rpm N        requests the key may make per minute
  --tpm N        tokens the key may spend per minute
  --json         print JSON
${CONFIG_OPTION}
`,
  query: `fusion query "question" --collection NAME [--k 5] [--mode bm25|vector|hybrid] [--filter JSON] [--json]

Prints a collection's best chunks for a question, with their sources and scores.

Options:
  --collection NAME        the collection to search (required)
  --k N                    how many chunks (default 5)
  --mode MODE              search mode: bm25, vector or hybrid
  --filter JSON            metadata filter, e.g. '{"path":"guide.md"}'
  --embedding-model ID     the embedding model (default: the collection's)
  --json                   print the result as JSON
${CONFIG_OPTION}
`,
};

/** Runs the CLI with the given arguments; returns the exit code (serve keeps running). */
export async function runCli(argv: string[], context: CliContext): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    context.log(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.version) {
    context.out(VERSION);
    return 0;
  }
  if (values.help && command && COMMAND_HELP[command]) {
    context.out(COMMAND_HELP[command]);
    return 0;
  }
  if (values.help || !command) {
    context.out(HELP);
    return values.help ? 0 : 2;
  }
  try {
    const options = { ...(values.config ? { config: values.config } : {}) };
    // Each command's module (and the packages it needs: RAG's native index, MLX) is loaded only when
    // that command runs, so `--help` and a mistaken command answer at once.
    if (command === 'serve')
      await (await import('./commands/serve-command.js')).serveCommand(context, options);
    else if (command === 'mcp')
      await (await import('./commands/mcp-command.js')).mcpCommand(context, options);
    else if (command === 'models')
      await (await import('./commands/models-command.js')).modelsCommand(context, {
        ...options,
        json: values.json === true,
      });
    else if (command === 'ingest')
      return await (await import('./commands/ingest-command.js')).ingestCommand(context, {
        ...options,
        inputs: positionals.slice(1),
        ...(values.collection ? { collection: values.collection } : {}),
        ...(values['embedding-model'] ? { embeddingModel: values['embedding-model'] } : {}),
        ...(values.splitter ? { splitter: values.splitter } : {}),
        ...(values.tokenizer ? { tokenizer: values.tokenizer } : {}),
        ...(values['chunk-size'] ? { chunkSize: values['chunk-size'] } : {}),
        ...(values['chunk-overlap'] ? { chunkOverlap: values['chunk-overlap'] } : {}),
        json: values.json === true,
      });
    else if (command === 'keys')
      return await (await import('./commands/keys-command.js')).keysCommand(context, {
        ...options,
        action: positionals[1],
        ...(positionals[1] === 'revoke'
          ? positionals[2] === undefined
            ? {}
            : { id: positionals[2] }
          : values.id
            ? { id: values.id }
            : {}),
        ...(values.rpm ? { requestsPerMinute: values.rpm } : {}),
        ...(values.tpm ? { tokensPerMinute: values.tpm } : {}),
        json: values.json === true,
      });
    else if (command === 'query')
      return await (await import('./commands/query-command.js')).queryCommand(context, {
        ...options,
        query: positionals.slice(1).join(' '),
        ...(values.collection ? { collection: values.collection } : {}),
        ...(values.k ? { k: values.k } : {}),
        ...(values.mode ? { mode: values.mode } : {}),
        ...(values.filter ? { filter: values.filter } : {}),
        ...(values['embedding-model'] ? { embeddingModel: values['embedding-model'] } : {}),
        json: values.json === true,
      });
    else {
      context.log(`unknown command '${command}'\n\n${HELP}`);
      return 2;
    }
    return 0;
  } catch (error) {
    // A mistake of the config or the environment: said in a few lines, no stack, exit 2 (usage).
    if (error instanceof ConfigError) {
      context.log(`fusion: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      collection: { type: 'string' },
      'embedding-model': { type: 'string' },
      splitter: { type: 'string' },
      tokenizer: { type: 'string' },
      'chunk-size': { type: 'string' },
      'chunk-overlap': { type: 'string' },
      k: { type: 'string' },
      mode: { type: 'string' },
      filter: { type: 'string' },
      id: { type: 'string' },
      rpm: { type: 'string' },
      tpm: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}
