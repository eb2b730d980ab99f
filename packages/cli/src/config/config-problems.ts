import type { z } from 'zod';
import { type ConfigProblem, showValue } from './config-error.js';

/**
 * `['upstreams', 'lab', 'maxSockets']` → `upstreams.lab.maxSockets`; `['pipelines', 0]` →
 * `pipelines[0]`; `['queue', 'models', 'lab/qwen']` → `queue.models["lab/qwen"]`.
 */
export function keyPath(path: readonly PropertyKey[]): string {
  let key = '';
  for (const part of path) {
    if (typeof part === 'number') key += `[${part}]`;
    else if (!/^[A-Za-z_$][\w$-]*$/.test(String(part))) key += `[${JSON.stringify(String(part))}]`;
    else key += key ? `.${String(part)}` : String(part);
  }
  return key;
}

const ARTICLE: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  record: 'an object',
  function: 'a function',
};

/** What a failed issue expected, in words. */
function expectedOf(issue: z.core.$ZodIssue): string {
  if (issue.message.startsWith('expected')) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${ARTICLE[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return `expected ${issue.values.map((value) => showValue(value)).join(' or ')}`;
    case 'too_small':
      return `expected ${issue.origin === 'array' ? 'at least' : '≥'} ${String(issue.minimum)}${issue.origin === 'array' ? ' entries' : ''}`;
    case 'too_big':
      return `expected ${issue.origin === 'array' ? 'at most' : '≤'} ${String(issue.maximum)}${issue.origin === 'array' ? ' entries' : ''}`;
    default:
      return `expected something else (${issue.message})`;
  }
}

/** Whether a union branch failed on the value's type itself (so the value was meant for another). */
function failsAtRoot(branch: readonly z.core.$ZodIssue[]): boolean {
  return branch.some(
    (issue) => issue.path.length === 0 && (issue.code === 'invalid_type' || issue.code === 'invalid_value'),
  );
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(
        row[j]! + 1,
        row[j - 1]! + 1,
        previous + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
      );
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The closest of `candidates` to `name`, if it is close enough to be a typo. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

type Def = {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  valueType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  out?: z.core.$ZodType;
};

function defOf(schema: z.core.$ZodType): Def {
  return schema._zod.def as unknown as Def;
}

/** The schemas a value at `key` of a value of `schema` is checked against. */
function childrenOf(schema: z.core.$ZodType, key: PropertyKey): z.core.$ZodType[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
      return childrenOf(def.innerType!, key);
    case 'pipe':
      return childrenOf(def.in!, key);
    case 'union':
      return def.options!.flatMap((option) => childrenOf(option, key));
    case 'object': {
      const child = def.shape![String(key)];
      return child ? [child] : [];
    }
    case 'record':
      return [def.valueType!];
    case 'array':
      return typeof key === 'number' ? [def.element!] : [];
    default:
      return [];
  }
}

/** The keys an object at this place of the schema may have. */
function keysOf(schema: z.core.$ZodType): string[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
      return keysOf(def.innerType!);
    case 'union':
      return def.options!.flatMap(keysOf);
    case 'object':
      return Object.keys(def.shape!);
    default:
      return [];
  }
}

function knownKeys(root: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let schemas = [root];
  for (const key of path) schemas = schemas.flatMap((schema) => childrenOf(schema, key));
  return [...new Set(schemas.flatMap(keysOf))].filter((key) => key !== '$schema');
}

/**
 * Every problem of a failed parse, one per mistake: its key path, the value found and what was
 * expected. A union reports the branch the value was meant for (an object for `{ baseURL }`, not a
 * string); an unknown key suggests the known key it is closest to.
 */
export function problemsOf(error: z.ZodError, root: z.core.$ZodType, source: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const visit = (issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]) => {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path];
      const key = keyPath(path);
      const input = (issue as { input?: unknown }).input;
      switch (issue.code) {
        case 'invalid_union': {
          const meant = issue.errors.find((branch) => !failsAtRoot(branch));
          if (meant) visit(meant, path);
          else problems.push({ source, key, value: showValue(input), expected: expectedOf(issue) });
          break;
        }
        case 'invalid_key':
          for (const inner of issue.issues)
            problems.push({ source, key, value: showValue(input), expected: expectedOf(inner) });
          break;
        case 'invalid_element':
          visit(issue.issues, path);
          break;
        case 'unrecognized_keys': {
          const known = knownKeys(root, path);
          for (const unknown of issue.keys) {
            const suggestion = closest(unknown, known);
            problems.push({
              source,
              key: keyPath([...path, unknown]),
              expected: suggestion
                ? `unknown key; did you mean '${suggestion}'?`
                : `unknown key; expected one of ${known.join(', ')}`,
            });
          }
          break;
        }
        default:
          if (issue.code === 'invalid_type' && input === undefined)
            problems.push({ source, key, expected: `missing; ${expectedOf(issue)}` });
          else problems.push({ source, key, value: showValue(input), expected: expectedOf(issue) });
      }
    }
  };
  visit(error.issues, []);
  return problems;
}
