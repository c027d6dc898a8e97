import { test } from 'node:test';
import assert from 'node:assert/strict';
import { body, figuresIn, rewrite } from './docs-figures';

const DOC = [
  '# A page',
  'A marker in a code block is an example, not a figure:',
  '````md',
  '<!-- figures:NAME cmd="cnilab doctor" -->',
  '```text',
  '<!-- /figures -->',
  '```',
  '````',
  'Before.',
  '<!-- figures:help cmd="cnilab --help" -->',
  'stale output',
  'more stale output',
  '<!-- /figures -->',
  'Between.',
  '<!-- figures:run cmd="cnilab run --seed 1" netns -->',
  '```text',
  'an old run',
  '<!-- /figures -->',
  '```',
  '<!-- /figures -->',
  'After.',
].join('\n');

test('the figures of a page: name, command, whether it needs a scratch namespace', () => {
  assert.deepEqual(figuresIn(DOC), [
    { name: 'help', cmd: 'cnilab --help', netns: false },
    { name: 'run', cmd: 'cnilab run --seed 1', netns: true },
  ]);
});

test('rewrite replaces only the figures it has a body for, between their markers, and keeps every other line', () => {
  const out = rewrite(DOC, new Map([['help', 'new\noutput\n']]));
  assert.equal(
    out,
    [
      ...DOC.split('\n').slice(0, 8),
      'Before.',
      '<!-- figures:help cmd="cnilab --help" -->',
      'new',
      'output',
      '<!-- /figures -->',
      'Between.',
      '<!-- figures:run cmd="cnilab run --seed 1" netns -->',
      '```text',
      'an old run',
      '<!-- /figures -->',
      '```',
      '<!-- /figures -->',
      'After.',
    ].join('\n'),
  );
  assert.equal(rewrite(out, new Map([['help', 'stale output\nmore stale output']])), DOC, 'rewriting is reversible');
  assert.equal(rewrite(DOC, new Map()), DOC);
});

test('a figure says when and where it ran, then the command and its output, fenced past its backticks', () => {
  const b = body('cnilab doctor', 'ok\n```inner```\n\n', new Date('2026-12-06T11:00:00Z'), 'Linux 6.18, 2 CPUs');
  assert.equal(b, 'On 2026-12-06 (Linux 6.18, 2 CPUs):\n\n````text\n$ cnilab doctor\nok\n```inner```\n````');
});

const markerLeftTitle =
  'a marker left open, a close without an open, a name used ' +
  'twice or a malformed marker is an error naming the line';
test(markerLeftTitle, () => {
  assert.throws(() => figuresIn('<!-- figures:a cmd="x" -->\ntext', 'p.md'), /p\.md: figure a is not closed/);
  assert.throws(() => figuresIn('text\n<!-- /figures -->', 'p.md'), /p\.md:2: .* closes no figure/);
  const twice = '<!-- figures:a cmd="x" -->\n<!-- /figures -->\n<!-- figures:a cmd="y" -->\n<!-- /figures -->';
  assert.throws(() => figuresIn(twice, 'p.md'), /p\.md:3: figure a is named twice/);
  assert.throws(() => figuresIn('<!-- figures:a -->', 'p.md'), /p\.md:1: not a figure marker/);
  assert.throws(
    () => figuresIn('<!-- figures:a cmd="x" -->\n<!-- figures:b cmd="y" -->', 'p.md'),
    /p\.md:2: figure b opens inside figure a/,
  );
});
