/**
 * Pure Block Kit validator: refuses what Slack would refuse.
 *
 * `validateMessage` returns a list of problems (empty = OK). Every problem starts with the JSON path
 * of the offending value, e.g. `blocks[3].elements[1].action_id: longer than 255 (300)`.
 *
 * Lengths are counted in UTF-16 code units (`string.length`); Slack counts characters, so a string of
 * astral-plane emoji is judged slightly more strictly here than by Slack.
 */

export const BLOCK_KIT_LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  messageText: 40_000,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  actionId: 255,
  blockId: 255,
  actionsElements: 25,
  contextElements: 10,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  placeholder: 150,
  selectOptions: 100,
  overflowOptions: 5,
  choiceOptions: 10,
  optionText: 75,
  optionValue: 150,
  altText: 2000,
  imageTitle: 2000,
  inputLabel: 2000,
  inputHint: 2000,
  markdownText: 12_000,
  viewTitle: 24,
  viewButton: 24,
  callbackId: 255,
  privateMetadata: 3000,
} as const;

const L = BLOCK_KIT_LIMITS;

export const KNOWN_BLOCK_TYPES = [
  'actions',
  'context',
  'context_actions',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
] as const;

const SELECT_TYPES = new Set([
  'static_select',
  'multi_static_select',
  'external_select',
  'multi_external_select',
  'users_select',
  'multi_users_select',
  'conversations_select',
  'multi_conversations_select',
  'channels_select',
  'multi_channels_select',
]);
const CHOICE_TYPES = new Set(['radio_buttons', 'checkboxes']);
const OTHER_INTERACTIVE_TYPES = new Set([
  'datepicker',
  'timepicker',
  'datetimepicker',
  'plain_text_input',
  'email_text_input',
  'url_text_input',
  'number_input',
  'rich_text_input',
  'file_input',
  'workflow_button',
  'icon_button',
  'feedback_buttons',
]);

export interface MessageInput {
  text?: unknown;
  blocks?: unknown;
}

export interface ViewInput {
  type?: unknown;
  title?: unknown;
  submit?: unknown;
  close?: unknown;
  blocks?: unknown;
  callback_id?: unknown;
  private_metadata?: unknown;
  [key: string]: unknown;
}

type Obj = Record<string, unknown>;

interface Ctx {
  problems: string[];
  /** block_id → path of the block that first used it (unique within a message/view). */
  blockIds: Map<string, string>;
  /** action_id → path of the element that first used it (unique within a message/view). */
  actionIds: Map<string, string>;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function maxLen(ctx: Ctx, path: string, value: unknown, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'string') {
    ctx.problems.push(`${path}: must be a string`);
  } else if (value.length > max) {
    ctx.problems.push(`${path}: longer than ${max} (${value.length})`);
  }
}

interface TextRule {
  max: number;
  plainOnly?: boolean;
  required?: boolean;
}

function textObject(ctx: Ctx, path: string, v: unknown, rule: TextRule): void {
  if (v === undefined) {
    if (rule.required) ctx.problems.push(`${path}: required`);
    return;
  }
  if (!isObj(v)) {
    ctx.problems.push(`${path}: must be a text object`);
    return;
  }
  if (rule.plainOnly) {
    if (v.type !== 'plain_text') ctx.problems.push(`${path}.type: must be plain_text`);
  } else if (v.type !== 'plain_text' && v.type !== 'mrkdwn') {
    ctx.problems.push(`${path}.type: must be plain_text or mrkdwn`);
  }
  if (typeof v.text !== 'string') {
    ctx.problems.push(`${path}.text: required`);
  } else if (v.text.length === 0) {
    ctx.problems.push(`${path}.text: must not be empty`);
  } else {
    maxLen(ctx, `${path}.text`, v.text, rule.max);
  }
}

function blockId(ctx: Ctx, path: string, block: Obj): void {
  const id = block.block_id;
  if (id === undefined) return;
  if (typeof id !== 'string') {
    ctx.problems.push(`${path}.block_id: must be a string`);
    return;
  }
  maxLen(ctx, `${path}.block_id`, id, L.blockId);
  const first = ctx.blockIds.get(id);
  if (first !== undefined) {
    ctx.problems.push(`${path}.block_id: duplicate block_id "${id}" (also at ${first})`);
  } else {
    ctx.blockIds.set(id, path);
  }
}

function actionId(ctx: Ctx, path: string, el: Obj, inBlock: Map<string, string>): void {
  const id = el.action_id;
  if (id === undefined) return;
  if (typeof id !== 'string') {
    ctx.problems.push(`${path}.action_id: must be a string`);
    return;
  }
  maxLen(ctx, `${path}.action_id`, id, L.actionId);
  const sameBlock = inBlock.get(id);
  const sameMessage = ctx.actionIds.get(id);
  if (sameBlock !== undefined) {
    ctx.problems.push(`${path}.action_id: duplicate action_id "${id}" within this block (also at ${sameBlock})`);
  } else if (sameMessage !== undefined) {
    ctx.problems.push(`${path}.action_id: duplicate action_id "${id}" within the message (also at ${sameMessage})`);
  }
  if (sameBlock === undefined) inBlock.set(id, path);
  if (sameMessage === undefined) ctx.actionIds.set(id, path);
}

function confirmDialog(ctx: Ctx, path: string, v: unknown): void {
  if (v === undefined) return;
  if (!isObj(v)) {
    ctx.problems.push(`${path}: must be a confirmation dialog object`);
    return;
  }
  textObject(ctx, `${path}.title`, v.title, { max: L.confirmTitle, plainOnly: true, required: true });
  textObject(ctx, `${path}.text`, v.text, { max: L.confirmText, required: true });
  textObject(ctx, `${path}.confirm`, v.confirm, { max: L.confirmButton, plainOnly: true, required: true });
  textObject(ctx, `${path}.deny`, v.deny, { max: L.confirmButton, plainOnly: true, required: true });
  if (v.style !== undefined && v.style !== 'primary' && v.style !== 'danger') {
    ctx.problems.push(`${path}.style: must be primary or danger`);
  }
}

function option(ctx: Ctx, path: string, v: unknown, plainOnly: boolean): void {
  if (!isObj(v)) {
    ctx.problems.push(`${path}: must be an option object`);
    return;
  }
  textObject(ctx, `${path}.text`, v.text, { max: L.optionText, plainOnly, required: true });
  if (v.value === undefined) ctx.problems.push(`${path}.value: required`);
  maxLen(ctx, `${path}.value`, v.value, L.optionValue);
  textObject(ctx, `${path}.description`, v.description, { max: L.optionText, plainOnly });
  maxLen(ctx, `${path}.url`, v.url, L.url);
}

function options(ctx: Ctx, path: string, v: unknown, max: number, plainOnly: boolean, required: boolean): void {
  if (v === undefined) {
    if (required) ctx.problems.push(`${path}: required`);
    return;
  }
  if (!Array.isArray(v)) {
    ctx.problems.push(`${path}: must be an array`);
    return;
  }
  if (v.length > max) ctx.problems.push(`${path}: more than ${max} options (${v.length})`);
  v.forEach((o, i) => option(ctx, `${path}[${i}]`, o, plainOnly));
}

function imageElement(ctx: Ctx, path: string, el: Obj): void {
  if (el.image_url === undefined && el.slack_file === undefined) {
    ctx.problems.push(`${path}: needs image_url or slack_file`);
  }
  maxLen(ctx, `${path}.image_url`, el.image_url, L.url);
  if (el.alt_text === undefined) ctx.problems.push(`${path}.alt_text: required`);
  maxLen(ctx, `${path}.alt_text`, el.alt_text, L.altText);
}

type Where = 'actions' | 'accessory' | 'input' | 'context';

function element(ctx: Ctx, path: string, el: unknown, inBlock: Map<string, string>, where: Where): void {
  if (!isObj(el)) {
    ctx.problems.push(`${path}: must be an object`);
    return;
  }
  const type = el.type;
  if (typeof type !== 'string') {
    ctx.problems.push(`${path}.type: required`);
    return;
  }
  if (where === 'context') {
    if (type === 'image') imageElement(ctx, path, el);
    else if (type === 'plain_text' || type === 'mrkdwn') textObject(ctx, path, el, { max: L.sectionText });
    else ctx.problems.push(`${path}.type: "${type}" is not allowed in a context block`);
    return;
  }
  if (type === 'image') {
    if (where !== 'accessory') ctx.problems.push(`${path}.type: "image" is not allowed here`);
    else imageElement(ctx, path, el);
    return;
  }
  const interactive =
    type === 'button' ||
    type === 'overflow' ||
    SELECT_TYPES.has(type) ||
    CHOICE_TYPES.has(type) ||
    OTHER_INTERACTIVE_TYPES.has(type);
  if (!interactive) {
    ctx.problems.push(`${path}.type: unknown element type "${type}"`);
    return;
  }
  actionId(ctx, path, el, inBlock);
  confirmDialog(ctx, `${path}.confirm`, el.confirm);
  if (type === 'button') {
    textObject(ctx, `${path}.text`, el.text, { max: L.buttonText, plainOnly: true, required: true });
    maxLen(ctx, `${path}.value`, el.value, L.buttonValue);
    maxLen(ctx, `${path}.url`, el.url, L.url);
    if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
      ctx.problems.push(`${path}.style: must be primary or danger`);
    }
    return;
  }
  textObject(ctx, `${path}.placeholder`, el.placeholder, { max: L.placeholder, plainOnly: true });
  if (type === 'overflow') {
    options(ctx, `${path}.options`, el.options, L.overflowOptions, true, true);
  } else if (CHOICE_TYPES.has(type)) {
    options(ctx, `${path}.options`, el.options, L.choiceOptions, false, true);
  } else if (type === 'static_select' || type === 'multi_static_select') {
    if (el.options === undefined && el.option_groups === undefined) {
      ctx.problems.push(`${path}: needs options or option_groups`);
    }
    options(ctx, `${path}.options`, el.options, L.selectOptions, true, false);
    if (el.option_groups !== undefined) {
      if (!Array.isArray(el.option_groups)) {
        ctx.problems.push(`${path}.option_groups: must be an array`);
      } else {
        if (el.option_groups.length > L.selectOptions) {
          ctx.problems.push(`${path}.option_groups: more than ${L.selectOptions} groups (${el.option_groups.length})`);
        }
        el.option_groups.forEach((g, i) => {
          const gp = `${path}.option_groups[${i}]`;
          if (!isObj(g)) {
            ctx.problems.push(`${gp}: must be an object`);
            return;
          }
          textObject(ctx, `${gp}.label`, g.label, { max: L.optionText, plainOnly: true, required: true });
          options(ctx, `${gp}.options`, g.options, L.selectOptions, true, true);
        });
      }
    }
  }
}

function elementList(ctx: Ctx, path: string, v: unknown, max: number, what: string): unknown[] {
  if (!Array.isArray(v)) {
    ctx.problems.push(`${path}: required (an array)`);
    return [];
  }
  if (v.length === 0) ctx.problems.push(`${path}: must not be empty`);
  if (v.length > max) ctx.problems.push(`${path}: more than ${max} elements in ${what} (${v.length})`);
  return v;
}

function block(ctx: Ctx, path: string, b: unknown): void {
  if (!isObj(b)) {
    ctx.problems.push(`${path}: must be an object`);
    return;
  }
  const type = b.type;
  if (typeof type !== 'string') {
    ctx.problems.push(`${path}.type: required`);
    return;
  }
  if (!(KNOWN_BLOCK_TYPES as readonly string[]).includes(type)) {
    ctx.problems.push(`${path}.type: unknown block type "${type}"`);
    return;
  }
  blockId(ctx, path, b);
  switch (type) {
    case 'section': {
      if (b.text === undefined && b.fields === undefined) ctx.problems.push(`${path}: needs text or fields`);
      textObject(ctx, `${path}.text`, b.text, { max: L.sectionText });
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields)) {
          ctx.problems.push(`${path}.fields: must be an array`);
        } else {
          if (b.fields.length > L.sectionFields) {
            ctx.problems.push(`${path}.fields: more than ${L.sectionFields} fields (${b.fields.length})`);
          }
          b.fields.forEach((f, i) => textObject(ctx, `${path}.fields[${i}]`, f, { max: L.sectionFieldText }));
        }
      }
      if (b.accessory !== undefined) element(ctx, `${path}.accessory`, b.accessory, new Map(), 'accessory');
      break;
    }
    case 'header':
      textObject(ctx, `${path}.text`, b.text, { max: L.headerText, plainOnly: true, required: true });
      break;
    case 'actions': {
      const inBlock = new Map<string, string>();
      elementList(ctx, `${path}.elements`, b.elements, L.actionsElements, 'an actions block').forEach((el, i) =>
        element(ctx, `${path}.elements[${i}]`, el, inBlock, 'actions'),
      );
      break;
    }
    case 'context': {
      const inBlock = new Map<string, string>();
      elementList(ctx, `${path}.elements`, b.elements, L.contextElements, 'a context block').forEach((el, i) =>
        element(ctx, `${path}.elements[${i}]`, el, inBlock, 'context'),
      );
      break;
    }
    case 'image':
      imageElement(ctx, path, b);
      textObject(ctx, `${path}.title`, b.title, { max: L.imageTitle, plainOnly: true });
      break;
    case 'input':
      textObject(ctx, `${path}.label`, b.label, { max: L.inputLabel, plainOnly: true, required: true });
      textObject(ctx, `${path}.hint`, b.hint, { max: L.inputHint, plainOnly: true });
      if (b.element === undefined) ctx.problems.push(`${path}.element: required`);
      else element(ctx, `${path}.element`, b.element, new Map(), 'input');
      break;
    case 'markdown':
      if (typeof b.text !== 'string') ctx.problems.push(`${path}.text: required`);
      else maxLen(ctx, `${path}.text`, b.text, L.markdownText);
      break;
    case 'rich_text':
      if (!Array.isArray(b.elements)) ctx.problems.push(`${path}.elements: required (an array)`);
      break;
    default:
      // divider, file, video, table, context_actions: accepted without deeper checks.
      break;
  }
}

function blocks(ctx: Ctx, v: unknown, max: number): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) {
    ctx.problems.push('blocks: must be an array');
    return;
  }
  if (v.length > max) ctx.problems.push(`blocks: more than ${max} blocks (${v.length})`);
  v.forEach((b, i) => block(ctx, `blocks[${i}]`, b));
}

function newCtx(): Ctx {
  return { problems: [], blockIds: new Map(), actionIds: new Map() };
}

/** Problems Slack would refuse a chat message (chat.postMessage / update / postEphemeral / response_url) for. */
export function validateMessage(message: MessageInput): string[] {
  const ctx = newCtx();
  const { text } = message;
  const hasBlocks = Array.isArray(message.blocks) && message.blocks.length > 0;
  const hasText = typeof text === 'string' && text.length > 0;
  if (!hasText && !hasBlocks && (message.blocks === undefined || Array.isArray(message.blocks))) {
    ctx.problems.push('message: needs text or blocks');
  }
  if (text !== undefined) maxLen(ctx, 'text', text, L.messageText);
  blocks(ctx, message.blocks, L.messageBlocks);
  return ctx.problems;
}

/** Problems Slack would refuse a view (views.open / views.update / views.push) for. */
export function validateView(view: unknown): string[] {
  const ctx = newCtx();
  if (!isObj(view)) return ['view: must be an object'];
  if (view.type !== 'modal' && view.type !== 'home') ctx.problems.push('view.type: must be modal or home');
  const isModal = view.type === 'modal';
  textObject(ctx, 'view.title', view.title, { max: L.viewTitle, plainOnly: true, required: isModal });
  textObject(ctx, 'view.submit', view.submit, { max: L.viewButton, plainOnly: true });
  textObject(ctx, 'view.close', view.close, { max: L.viewButton, plainOnly: true });
  maxLen(ctx, 'view.callback_id', view.callback_id, L.callbackId);
  maxLen(ctx, 'view.private_metadata', view.private_metadata, L.privateMetadata);
  if (!Array.isArray(view.blocks)) {
    ctx.problems.push('view.blocks: required (an array)');
  } else {
    blocks(ctx, view.blocks, L.viewBlocks);
    const hasInput = view.blocks.some((b) => isObj(b) && b.type === 'input');
    if (isModal && hasInput && view.submit === undefined) {
      ctx.problems.push('view.submit: required when the view has input blocks');
    }
  }
  return ctx.problems.map((p) => (p.startsWith('blocks') ? `view.${p}` : p));
}
