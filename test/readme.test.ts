/**
 * README.md cannot rot. Every ```ts block is either
 * - an excerpt (verbatim lines) of the example file the text just before it names: `tsc --noEmit`
 *   type-checks that file, and this test runs it, or
 * - a complete ES module that this test type-checks as it stands (it defines what it uses).
 * Links to sections and to files of the repository resolve.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

interface Snippet {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
  /** The example file it is an excerpt of, or null for a complete program. */
  readonly source: string | null;
}

/** Fenced blocks, each with the example file named in the prose before it. */
function snippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const out: Snippet[] = [];
  let prose: string[] = [];
  let previous: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!fence) {
      prose.push(lines[i]!);
      continue;
    }
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && lines[i] !== '```') body.push(lines[i]!);
    const text = prose.join('\n');
    const named = [...text.matchAll(/examples\/[\w./-]+\.ts/g)].map((m) => m[0]);
    // A block that follows another with no prose between continues the same excerpt.
    const source: string | null =
      named.length > 0 ? named[named.length - 1]! : text.trim() === '' ? previous : null;
    out.push({ line: start + 1, lang: fence[1]!, code: body.join('\n'), source });
    previous = source;
    prose = [];
  }
  return out;
}

const tsSnippets = snippets(readme).filter((s) => s.lang === 'ts');
const excerpts = tsSnippets.filter((s) => s.source !== null);
const programs = tsSnippets.filter((s) => s.source === null);

function containsLines(haystack: string, needle: string): boolean {
  const trim = (text: string) => text.split('\n').map((l) => l.trimEnd());
  const file = trim(haystack);
  const block = trim(needle);
  for (let at = 0; at + block.length <= file.length; at++) {
    if (block.every((line, k) => file[at + k] === line)) return true;
  }
  return false;
}

function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

describe('README.md', () => {
  it('has TypeScript snippets of both kinds', () => {
    expect(excerpts.length).toBeGreaterThanOrEqual(6);
    expect(programs.length).toBeGreaterThanOrEqual(2);
  });

  it.each(excerpts.map((s) => [s.line, s.source!, s] as const))(
    'the snippet at line %i is an excerpt of %s, which tsc checks',
    (_line, source, snippet) => {
      const path = join(root, source);
      expect(existsSync(path), `${source} does not exist`).toBe(true);
      expect(
        containsLines(readFileSync(path, 'utf8'), snippet.code),
        `README.md line ${snippet.line} is not a verbatim excerpt of ${source}`,
      ).toBe(true);
      const config = ts.getParsedCommandLineOfConfigFile(
        join(root, 'tsconfig.json'),
        {},
        {
          ...ts.sys,
          onUnRecoverableConfigFileDiagnostic: () => undefined,
        },
      );
      expect(config?.fileNames).toContain(path);
    },
  );

  it('its complete snippets type-check as they stand (each an ES module)', () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(
      join(root, 'tsconfig.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: () => undefined,
      },
    )!;
    const files = new Map(
      programs.map((s) => [join(root, `readme-line-${s.line}.mts`), s.code] as const),
    );
    const host = ts.createCompilerHost(parsed.options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version, ...rest) => {
      const code = files.get(name);
      return code === undefined
        ? getSourceFile(name, version, ...rest)
        : ts.createSourceFile(name, code, version, true);
    };
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => files.has(name) || fileExists(name);
    const program = ts.createProgram([...files.keys()], parsed.options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && files.has(d.file.fileName));
    const report = ts.formatDiagnostics(problems, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => root,
      getNewLine: () => '\n',
    });
    expect(report).toBe('');
  }, 60_000);

  it.each(
    [...new Set(excerpts.map((s) => s.source!))].filter(
      (source) => !source.includes('.test') && !source.includes('vitest'),
    ),
  )(
    '%s runs to completion',
    (source) => {
      const result = spawnSync(
        process.execPath,
        [join(root, 'node_modules/tsx/dist/cli.mjs'), source],
        { cwd: root, encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' },
      );
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout.length).toBeGreaterThan(0);
    },
    40_000,
  );

  it('links to sections and files resolve', () => {
    const prose = readme.replace(/^```[\s\S]*?^```$/gm, '');
    const slugs = new Set(
      [...prose.matchAll(/^#{1,6} (.+)$/gm)].map((m) => githubSlug(m[1]!.replace(/`/g, ''))),
    );
    const links = [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(20);
    for (const link of links) {
      if (/^[a-z]+:/i.test(link)) continue; // https:, mailto:
      if (link.startsWith('#')) {
        expect(slugs, `no heading for ${link}`).toContain(link.slice(1));
      } else {
        const file = link.split('#')[0]!;
        expect(existsSync(join(root, file)), `${link} does not exist`).toBe(true);
      }
    }
  });

  it('never refers to a specification users do not have (docs, examples, shipped code)', () => {
    const tsFiles = (dir: string) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts') && !/\.test(-d)?\.ts$/.test(f))
        .map((f) => join(dir, f));
    // Shipped: messages, and doc comments (in the declarations, and in the source maps).
    const files = ['README.md', 'CHANGELOG.md', ...tsFiles('examples'), ...tsFiles('src')];
    expect(files.length).toBeGreaterThan(40);
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8');
      expect(text, file).not.toMatch(/§|PRODUCT\.md|\bthe (product )?spec\b/i);
    }
  });

  it('tells a newcomer how to install it, run the demo and run the tests', () => {
    const sh = snippets(readme)
      .filter((s) => s.lang === 'sh')
      .map((s) => s.code);
    expect(sh).toContainEqual(expect.stringContaining('npm pack'));
    expect(sh).toContainEqual(expect.stringMatching(/npm install \S+\.tgz/));
    expect(sh).toContain('npm ci && npm run demo');
    expect(sh).toContain('npm test');
  });
});
