import { defineConfig } from 'tsup';

export default defineConfig({
  // `worker` is the entry of the process the provider forks; it is found next to the bundle.
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', worker: 'src/worker.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // `import.meta.url` in the CommonJS build, to find the worker.
  shims: true,
});
