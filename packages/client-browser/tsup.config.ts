import { defineConfig, type Options } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

// The SDK bundles everything but tfjs, so a page can import dist/index.js as it is (tfjs is a
// peer: the page brings its own, once). The demo page's script is a second, self-contained bundle
// that holds the demo page's one tfjs; the demo's server-side helpers (HTML, data wire) are a third.
const tfjs = [/^@tensorflow\//];
const bundled = [/^@fedlearn\//, 'socket.io-client', /^@noble\//, 'zod'];
// zod's `z` namespace re-exports all of its ~40 locales; zod installs English itself and nothing
// here switches locale, so the SDK leaves the locale index out (38 KiB of the gzipped bundle).
const noZodLocales: Plugin = {
  name: 'no-zod-locales',
  setup(build) {
    build.onLoad({ filter: /zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export {};',
      loader: 'js',
    }));
  },
};
const common = { format: ['esm' as const], sourcemap: true, clean: false, target: 'es2022' };

export default defineConfig([
  {
    ...common,
    entry: { index: 'src/index.ts' },
    platform: 'browser',
    dts: true,
    minify: true,
    splitting: false,
    external: tfjs,
    noExternal: bundled,
    esbuildPlugins: [noZodLocales],
  },
  { ...common, entry: { 'demo/index': 'src/demo/index.ts' }, platform: 'neutral', dts: true },
  {
    ...common,
    entry: { 'demo/app': 'src/demo/app.ts' },
    platform: 'browser',
    minify: true,
    // The demo's bundle holds all of tfjs: its source map would be most of the package.
    sourcemap: false,
    noExternal: [...bundled, ...tfjs],
  },
]);
