/**
 * Preloaded (`node --import`) into the gateway under test so it cannot outlive the bench: when the
 * IPC channel to the bench closes, which happens even if the bench is SIGKILLed, it ends its
 * process group (itself and anything it started; `spawnServer` makes it the group leader).
 *
 * It adds no work per request. The channel is unref'd so a gateway that would exit on its own (a
 * startup error, say) still does.
 */
if (process.channel) {
  process.on('disconnect', () => {
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      process.exit(0);
    }
  });
  process.channel.unref();
}
