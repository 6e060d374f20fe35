import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * Small functions, checked: no function in production source is longer than
 * a screen (80 lines) unless the comment directly above it says why, with the
 * exact phrase `Why this is long:`. "Above it" is the function's own leading
 * comment, or that of what it is part of: the variable statement, the property
 * or the call it is an argument of (`app.get('/x', async () => {...})`).
 */

const ROOT = resolve(__dirname, '../..');
const LIMIT = 80;
const REASON = 'Why this is long:';
const SOURCE = /\.(ts|cts|mts|js|cjs|mjs)$/;

export interface LongFunction {
  line: number;
  name: string;
  length: number;
}

const isExcluded = (path: string) =>
  /\.(spec|test)\.ts$/.test(path) || /\.d\.c?ts$/.test(path) || path.split(sep).some((part) => part === '__fixtures__' || part === 'dist' || part === 'node_modules' || part === 'python');

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (isExcluded(path)) continue;
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (SOURCE.test(entry.name)) out.push(path);
  }
  return out;
}

/** Production source: every lib's src and scripts, the plugin's src and bin. */
function productionFiles(): string[] {
  const libs = readdirSync(join(ROOT, 'libs'));
  return [
    ...libs.flatMap((lib) => [...filesUnder(join(ROOT, 'libs', lib, 'src')), ...filesUnder(join(ROOT, 'libs', lib, 'scripts'))]),
    ...filesUnder(join(ROOT, 'tools/trajgen/src')),
    ...filesUnder(join(ROOT, 'tools/trajgen/bin')),
  ];
}

type FunctionNode = ts.FunctionDeclaration | ts.MethodDeclaration | ts.ArrowFunction | ts.FunctionExpression | ts.ConstructorDeclaration | ts.AccessorDeclaration;

const isFunction = (node: ts.Node): node is FunctionNode =>
  ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node);

/** The nodes whose leading comment may carry the reason: the function, then what it is part of. */
function carriers(fn: FunctionNode): ts.Node[] {
  const out: ts.Node[] = [fn];
  let node: ts.Node = fn;
  while (node.parent) {
    const parent: ts.Node = node.parent;
    if (ts.isVariableDeclaration(parent) || ts.isVariableDeclarationList(parent) || ts.isParenthesizedExpression(parent) || ts.isAsExpression(parent) || ts.isSatisfiesExpression(parent)) {
      node = parent;
      continue;
    }
    if (ts.isVariableStatement(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isExportAssignment(parent) || ts.isBinaryExpression(parent)) {
      out.push(parent);
      if (ts.isBinaryExpression(parent) && ts.isExpressionStatement(parent.parent)) out.push(parent.parent);
      break;
    }
    if (ts.isCallExpression(parent) || ts.isNewExpression(parent)) {
      out.push(parent);
      // `x = call(() => ...)`, `const x = call(...)`, `call(...);`
      let outer: ts.Node = parent.parent;
      while (outer && (ts.isAwaitExpression(outer) || ts.isVariableDeclaration(outer) || ts.isVariableDeclarationList(outer) || ts.isParenthesizedExpression(outer))) outer = outer.parent;
      if (outer) out.push(outer);
      break;
    }
    break;
  }
  return out;
}

function nameOf(fn: FunctionNode, sf: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(fn)) return 'constructor';
  if (fn.name) return fn.name.getText(sf);
  const parent = fn.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(sf);
  if (ts.isBinaryExpression(parent)) return parent.left.getText(sf);
  if (ts.isCallExpression(parent) || ts.isNewExpression(parent)) return `(argument of ${parent.expression.getText(sf).slice(0, 40)})`;
  return '(anonymous)';
}

const hasReason = (node: ts.Node, text: string) => (ts.getLeadingCommentRanges(text, node.getFullStart()) ?? []).some((range) => text.slice(range.pos, range.end).includes(REASON));

/** The functions in `text` longer than the limit whose comments give no reason. */
export function longFunctions(text: string, fileName = 'source.ts'): LongFunction[] {
  if (text.split('\n', LIMIT + 1).length <= LIMIT) return []; // too short to hold one: no need to parse it
  const kind = /\.(c|m)?js$/.test(fileName) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, kind);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (isFunction(node) && node.body) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const length = last - first + 1;
      if (length > LIMIT && !carriers(node).some((carrier) => hasReason(carrier, text))) found.push({ line: first + 1, name: nameOf(node, sf), length });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** A function of `lines` lines in total, with `comment` above it. */
const functionOf = (lines: number, comment = '') => `${comment}\nexport function big(): number {\n  let n = 0;\n${'  n += 1;\n'.repeat(lines - 4)}  return n;\n}\n`;

describe('the long-function scanner', () => {
  it('reports a 90-line function with no reason, at its line, with its name and length', () => {
    expect(longFunctions(functionOf(90, '// a big one'))).toEqual([{ line: 2, name: 'big', length: 90 }]);
  });

  it('accepts a long function whose comment above says why it is long', () => {
    expect(longFunctions(functionOf(90, '/** Why this is long: one state machine, split it and it slows down. */'))).toEqual([]);
  });

  it('does not accept a reason that is not directly above the function', () => {
    const text = `// Why this is long: about something else\nconst x = 1;\n${functionOf(90)}`;
    expect(longFunctions(text)).toHaveLength(1);
  });

  it('allows 80 lines without a reason', () => {
    expect(longFunctions(functionOf(80))).toEqual([]);
    expect(longFunctions(functionOf(81))).toHaveLength(1);
  });

  it('finds arrow functions, methods and call arguments, and reads reasons above what they are part of', () => {
    const body = `{\n${'  void 0;\n'.repeat(85)}}`;
    const text = [
      `const arrow = () => ${body};`,
      `class A {\n  method() ${body}\n}`,
      `register('x', async () => ${body});`,
      `// Why this is long: a table of cases\nconst reasoned = () => ${body};`,
      `// Why this is long: a table of cases\nregister('y', function () ${body});`,
      `const o = {\n  // Why this is long: a table of cases\n  prop: () => ${body},\n};`,
    ].join('\n');
    expect(longFunctions(text).map((f) => f.name)).toEqual(['arrow', 'method', '(argument of register)']);
  });

  it('reads the reason for a returned promise executor above the return statement', () => {
    const body = `{\n${'    void 0;\n'.repeat(85)}  }`;
    const outer = (inner: string) => `// Why this is long: one request's state\nfunction serve() {\n${inner}  return new Promise((resolve) => ${body});\n}\n`;
    expect(longFunctions(outer(''))).toEqual([{ line: 3, name: '(argument of Promise)', length: 87 }]);
    expect(longFunctions(outer('  // Why this is long: the same state, shared by the handlers\n'))).toEqual([]);
  });
});

describe('production source', () => {
  it(`has no function over ${LIMIT} lines without "${REASON}" written above it`, () => {
    const files = productionFiles();
    expect(files.length).toBeGreaterThan(50);
    const report = files.flatMap((file) =>
      longFunctions(readFileSync(file, 'utf8'), file).map((f) => `${relative(ROOT, file)}:${f.line} ${f.name} ${f.length} lines`),
    );
    expect(report, `Split these, or write "${REASON} ..." directly above them`).toEqual([]);
  });
});
