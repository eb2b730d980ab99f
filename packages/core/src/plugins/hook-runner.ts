import type { HookOptions, PluginHooks } from '../spec/plugin/v1/plugin-v1.js';

interface Entry<TName extends keyof PluginHooks> {
  hook: PluginHooks[TName];
  order: number;
}

const ORDER = { pre: 0, normal: 1, post: 2 } as const;

/**
 * Runs the data-changing hooks of plugins in order: `enforce: 'pre'` first, then the unmarked ones,
 * then `'post'`, each group in registration order. Each hook sees the previous hook's value.
 */
export class HookRunner {
  readonly #hooks: { [TName in keyof PluginHooks]: Entry<TName>[] } = {
    'chat:request': [],
    'chat:result': [],
    'call:headers': [],
  };

  add<TName extends keyof PluginHooks>(
    name: TName,
    hook: PluginHooks[TName],
    options: HookOptions = {},
  ): () => void {
    const list = this.#hooks[name] as Entry<TName>[];
    const entry: Entry<TName> = { hook, order: ORDER[options.enforce ?? 'normal'] };
    // Stable insertion: after every entry of the same or an earlier group.
    let index = list.length;
    while (index > 0 && list[index - 1]!.order > entry.order) index--;
    list.splice(index, 0, entry);
    return () => {
      const at = list.indexOf(entry);
      if (at >= 0) list.splice(at, 1);
    };
  }

  has(name: keyof PluginHooks): boolean {
    return this.#hooks[name].length > 0;
  }

  /** Runs the hooks of `name` in order, each seeing the previous one's value: {@link HookRunner.runNow}, always as a promise. */
  async run<TName extends keyof PluginHooks>(
    name: TName,
    value: Parameters<PluginHooks[TName]>[0],
    context: Parameters<PluginHooks[TName]>[1],
  ): Promise<Parameters<PluginHooks[TName]>[0]> {
    return this.runNow(name, value, context);
  }

  /**
   * {@link HookRunner.run} without a promise while the hooks answer synchronously (tracing's
   * `call:headers` does): the value itself, or a promise from the first hook that returns one on.
   */
  runNow<TName extends keyof PluginHooks>(
    name: TName,
    value: Parameters<PluginHooks[TName]>[0],
    context: Parameters<PluginHooks[TName]>[1],
  ): Parameters<PluginHooks[TName]>[0] | Promise<Parameters<PluginHooks[TName]>[0]> {
    const list = this.#hooks[name] as Entry<TName>[];
    let current = value;
    for (let index = 0; index < list.length; index++) {
      const next = (list[index]!.hook as (value: typeof current, context: unknown) => unknown)(
        current,
        context,
      );
      if (isThenable(next)) return this.#finish(list, index, next, current, context);
      if (next !== undefined) current = next as typeof current;
    }
    return current;
  }

  /** The rest of {@link HookRunner.runNow} once hook `index` returned `pending`. */
  async #finish<TName extends keyof PluginHooks>(
    list: Entry<TName>[],
    index: number,
    pending: PromiseLike<unknown>,
    value: Parameters<PluginHooks[TName]>[0],
    context: Parameters<PluginHooks[TName]>[1],
  ): Promise<Parameters<PluginHooks[TName]>[0]> {
    let current = value;
    const first = await pending;
    if (first !== undefined) current = first as typeof current;
    for (let next = index + 1; next < list.length; next++) {
      const changed = await (list[next]!.hook as (value: typeof current, context: unknown) => unknown)(
        current,
        context,
      );
      if (changed !== undefined) current = changed as typeof current;
    }
    return current;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
