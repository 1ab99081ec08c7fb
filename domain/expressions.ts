// Run-condition expressions: a small, safe language parsed by jsep and evaluated here by walking the AST.
// Nothing is ever eval'd. Pure and deterministic, so the workflow sandbox can run it.
//
//   Release == "v2" && Machine.Name != "web3"
//   Output["sanity-test"].ShouldAddBackToWebFarm == "True"
//   Var.Region == "eu" || !Var.Canary
//
// Names: Release, Deployable, RequestedBy, Status ("success" | "failure"), Machine.Name, Machine.Tags (string with
// commas), Var.<name> (rollout, deployable and target variables), Output.<step>.<name> (output variables that THIS
// machine produced in earlier child steps and steps). Values are strings; a missing variable is "".
// Truthiness: "true"/"True" (any case), "yes", "1" and the boolean true are true; everything else is false.
import jsep from 'jsep';

export type ExprValue = string | boolean | number | undefined | ExprObject;
export interface ExprObject {
  [key: string]: ExprValue;
}

const ROOTS = new Set(['Release', 'Deployable', 'RequestedBy', 'Status', 'Machine', 'Var', 'Output']);
const BINARY = new Set(['==', '!=', '===', '!==', '&&', '||', '<', '>', '<=', '>=']);

export class ExpressionError extends Error {}

type Node = jsep.Expression;

/** Parses and checks an expression; throws ExpressionError with a readable reason. */
export function parseExpression(source: string): Node {
  let ast: Node;
  try {
    ast = jsep(source);
  } catch (e) {
    throw new ExpressionError(`cannot parse "${source}": ${(e as Error).message}`);
  }
  check(ast);
  return ast;
}

function check(node: Node): void {
  switch (node.type) {
    case 'Literal':
      return;
    case 'Identifier': {
      const name = (node as jsep.Identifier).name;
      if (name === 'true' || name === 'false') return;
      if (!ROOTS.has(name)) {
        throw new ExpressionError(`unknown name "${name}" (use one of ${[...ROOTS].join(', ')})`);
      }
      return;
    }
    case 'MemberExpression': {
      const m = node as jsep.MemberExpression;
      check(m.object);
      if (m.computed) {
        if (m.property.type !== 'Literal') throw new ExpressionError('only literal keys are allowed inside [ ]');
      } else if (m.property.type !== 'Identifier') {
        throw new ExpressionError('bad member access');
      }
      return;
    }
    case 'UnaryExpression': {
      const u = node as jsep.UnaryExpression;
      if (u.operator !== '!') throw new ExpressionError(`operator "${u.operator}" is not allowed`);
      check(u.argument);
      return;
    }
    case 'BinaryExpression':
    case 'LogicalExpression': {
      const b = node as jsep.BinaryExpression;
      if (!BINARY.has(b.operator)) throw new ExpressionError(`operator "${b.operator}" is not allowed`);
      check(b.left);
      check(b.right);
      return;
    }
    default:
      throw new ExpressionError(`${node.type} is not allowed in a condition`);
  }
}

export function truthy(v: ExprValue): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return ['true', 'yes', '1'].includes(v.trim().toLowerCase());
  return false;
}

function asComparable(v: ExprValue): string | number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return v;
  return '';
}

function compare(op: string, l: ExprValue, r: ExprValue): boolean {
  const a = asComparable(l);
  const b = asComparable(r);
  switch (op) {
    case '==':
    case '===':
      return String(a) === String(b);
    case '!=':
    case '!==':
      return String(a) !== String(b);
  }
  // Ordering: numeric when both sides look like numbers, otherwise string order.
  const na = Number(a);
  const nb = Number(b);
  const numeric = String(a).trim() !== '' && String(b).trim() !== '' && !Number.isNaN(na) && !Number.isNaN(nb);
  const x = numeric ? na : String(a);
  const y = numeric ? nb : String(b);
  switch (op) {
    case '<':
      return x < y;
    case '>':
      return x > y;
    case '<=':
      return x <= y;
    case '>=':
      return x >= y;
  }
  throw new ExpressionError(`operator "${op}" is not allowed`);
}

function evaluateNode(node: Node, scope: ExprObject): ExprValue {
  switch (node.type) {
    case 'Literal':
      return (node as jsep.Literal).value as ExprValue;
    case 'Identifier': {
      const name = (node as jsep.Identifier).name;
      if (name === 'true') return true;
      if (name === 'false') return false;
      return Object.prototype.hasOwnProperty.call(scope, name) ? scope[name] : undefined;
    }
    case 'MemberExpression': {
      const m = node as jsep.MemberExpression;
      const obj = evaluateNode(m.object, scope);
      const key = m.computed ? String((m.property as jsep.Literal).value) : (m.property as jsep.Identifier).name;
      if (obj === undefined || typeof obj !== 'object') return undefined;
      return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
    }
    case 'UnaryExpression':
      return !truthy(evaluateNode((node as jsep.UnaryExpression).argument, scope));
    case 'BinaryExpression':
    case 'LogicalExpression': {
      const b = node as jsep.BinaryExpression;
      if (b.operator === '&&') return truthy(evaluateNode(b.left, scope)) && truthy(evaluateNode(b.right, scope));
      if (b.operator === '||') return truthy(evaluateNode(b.left, scope)) || truthy(evaluateNode(b.right, scope));
      return compare(b.operator, evaluateNode(b.left, scope), evaluateNode(b.right, scope));
    }
    default:
      throw new ExpressionError(`${node.type} is not allowed in a condition`);
  }
}

export interface ConditionScope {
  release: string;
  deployable: string;
  requestedBy: string;
  status: 'success' | 'failure';
  machine?: { name: string; tags: string[] };
  variables: Record<string, string>;
  /** step name → output name → value, for the current machine. */
  outputs: Record<string, Record<string, string>>;
}

export function evaluateCondition(source: string, s: ConditionScope): boolean {
  const scope: ExprObject = {
    Release: s.release,
    Deployable: s.deployable,
    RequestedBy: s.requestedBy,
    Status: s.status,
    Machine: s.machine ? { Name: s.machine.name, Tags: s.machine.tags.join(',') } : {},
    Var: { ...s.variables },
    Output: Object.fromEntries(Object.entries(s.outputs).map(([k, v]) => [k, { ...v }])),
  };
  return truthy(evaluateNode(parseExpression(source), scope));
}

/** Step names an expression reads through `Output.<step>` or `Output["step"]` (for config checks). */
export function outputStepsReferenced(source: string): string[] {
  const found: string[] = [];
  const walk = (node: Node): void => {
    if (node.type === 'MemberExpression') {
      const m = node as jsep.MemberExpression;
      if (m.object.type === 'Identifier' && (m.object as jsep.Identifier).name === 'Output') {
        found.push(m.computed ? String((m.property as jsep.Literal).value) : (m.property as jsep.Identifier).name);
      }
      walk(m.object);
    } else if (node.type === 'UnaryExpression') {
      walk((node as jsep.UnaryExpression).argument);
    } else if (node.type === 'BinaryExpression' || node.type === 'LogicalExpression') {
      walk((node as jsep.BinaryExpression).left);
      walk((node as jsep.BinaryExpression).right);
    }
  };
  walk(parseExpression(source));
  return found;
}
