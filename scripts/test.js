#!/usr/bin/env node
// Runs every compiled *.test.js under dist/ with node's test runner, one file at a time (the
// integration tests build labs in the one kernel this machine has). Helpers beside the tests are
// not tests: naming the files keeps node --test from running them.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', 'dist');
const files = [];
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js')) files.push(p);
  }
};
walk(root);
files.sort();
const args = ['--test', '--test-concurrency=1', '--test-timeout=180000', ...process.argv.slice(2), ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
