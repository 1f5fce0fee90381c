#!/usr/bin/env node
// A committed entry point, so `npm install` can link `fedlearn` before the first build exists.
import '../dist/bin.js';
