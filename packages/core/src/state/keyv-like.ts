/**
 * The part of a Keyv instance the core uses. Pass `new Keyv()` (memory), a Keyv over SQLite (the CLI's
 * default) or `new Keyv(new KeyvRedis(url))` to share state between instances; the core itself
 * depends on no store (it must run without Node built-ins).
 */
export interface KeyvLike<TValue> {
  get(key: string): Promise<TValue | undefined | null>;
  /** `ttl` in ms; none keeps the value until it is deleted. */
  set(key: string, value: TValue, ttl?: number): Promise<unknown>;
  /** Needed by stores that forget (jobs); optional for those that only expire (traces). */
  delete?(key: string): Promise<unknown>;
}
