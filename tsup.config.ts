import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'redis/index': 'src/redis.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  // Code shared by `brama` and `brama/testing` goes into one chunk that both entries import,
  // so the classes are the same objects whichever entry they come from (in ESM and in CJS).
  splitting: true,
  tsconfig: 'tsconfig.build.json',
  outDir: 'dist',
});
