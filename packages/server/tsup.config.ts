import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base.js';

// shims: the keystream pool locates its worker script from import.meta.url, in the CJS build too.
export default defineConfig({ ...libraryBuild, shims: true });
