#!/usr/bin/env node
// Writes the published JSON Schema of results.json from its zod definition (run after build).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { RESULTS_SCHEMA_VERSION } = require('../dist/src/run/results-schema.js');
const { resultsJsonSchema } = require('../dist/src/run/results-published.js');
const file = path.join(__dirname, '..', 'schema', `results-v${RESULTS_SCHEMA_VERSION}.schema.json`);
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, JSON.stringify(resultsJsonSchema(), null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), file)}`);
