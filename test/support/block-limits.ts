import { expect } from 'vitest';
import { LIMITS } from '../../src/slack/blocks/limits.js';

/** Slack's limits for the parts the builders use (docs.slack.dev Block Kit reference). */
const PART_LIMITS = {
  inputLabel: 2_000,
  inputHint: 2_000,
  placeholder: 150,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

type Node = Record<string, unknown>;

const asNode = (value: unknown): Node => (typeof value === 'object' && value !== null ? (value as Node) : {});
const textOf = (value: unknown): string => String(asNode(value)['text'] ?? '');

function expectAtMost(what: string, text: string, max: number): void {
  expect(text.length, `${what}: ${JSON.stringify(text.slice(0, 80))}`).toBeLessThanOrEqual(max);
}

function checkOptions(where: string, element: Node): void {
  const options = [
    ...((element['options'] as unknown[] | undefined) ?? []),
    ...((element['initial_options'] as unknown[] | undefined) ?? []),
    ...(element['initial_option'] === undefined ? [] : [element['initial_option']]),
  ];
  expect((element['options'] as unknown[] | undefined)?.length ?? 0, `${where} options`).toBeLessThanOrEqual(
    LIMITS.options,
  );
  for (const option of options) {
    expectAtMost(`${where} option text`, textOf(asNode(option)['text']), LIMITS.optionText);
    expectAtMost(`${where} option value`, String(asNode(option)['value'] ?? ''), LIMITS.optionValue);
  }
}

function checkElement(where: string, element: Node): void {
  if (element['placeholder'] !== undefined) {
    expectAtMost(`${where} placeholder`, textOf(element['placeholder']), PART_LIMITS.placeholder);
  }
  if (element['type'] === 'button') {
    expectAtMost(`${where} button`, textOf(element['text']), LIMITS.buttonText);
    expectAtMost(`${where} button value`, String(element['value'] ?? ''), LIMITS.buttonValue);
    const confirm = asNode(element['confirm']);
    if (element['confirm'] !== undefined) {
      expectAtMost(`${where} confirm title`, textOf(confirm['title']), PART_LIMITS.confirmTitle);
      expectAtMost(`${where} confirm text`, textOf(confirm['text']), PART_LIMITS.confirmText);
      expectAtMost(`${where} confirm`, textOf(confirm['confirm']), PART_LIMITS.confirmButton);
      expectAtMost(`${where} deny`, textOf(confirm['deny']), PART_LIMITS.confirmButton);
    }
  }
  checkOptions(where, element);
}

/** Every Slack limit of the blocks the builders make. */
export function expectBlocksWithinLimits(blocks: readonly unknown[], maxBlocks: number): void {
  expect(blocks.length).toBeLessThanOrEqual(maxBlocks);
  blocks.forEach((raw, index) => {
    const block = asNode(raw);
    const where = `block ${index} (${String(block['type'])})`;
    switch (block['type']) {
      case 'section': {
        if (block['text'] !== undefined) expectAtMost(where, textOf(block['text']), LIMITS.sectionText);
        const fields = (block['fields'] as unknown[] | undefined) ?? [];
        expect(fields.length, where).toBeLessThanOrEqual(LIMITS.fields);
        for (const field of fields) expectAtMost(`${where} field`, textOf(field), LIMITS.field);
        if (block['accessory'] !== undefined) checkElement(where, asNode(block['accessory']));
        break;
      }
      case 'header':
        expectAtMost(where, textOf(block['text']), LIMITS.header);
        break;
      case 'context': {
        const elements = (block['elements'] as unknown[] | undefined) ?? [];
        expect(elements.length, where).toBeLessThanOrEqual(LIMITS.context);
        for (const element of elements) expectAtMost(where, textOf(element), LIMITS.sectionText);
        break;
      }
      case 'actions': {
        const elements = (block['elements'] as unknown[] | undefined) ?? [];
        expect(elements.length, where).toBeLessThanOrEqual(LIMITS.actionsElements);
        for (const element of elements) checkElement(where, asNode(element));
        break;
      }
      case 'input':
        expectAtMost(`${where} label`, textOf(block['label']), PART_LIMITS.inputLabel);
        if (block['hint'] !== undefined) expectAtMost(`${where} hint`, textOf(block['hint']), PART_LIMITS.inputHint);
        checkElement(where, asNode(block['element']));
        break;
      default:
        break;
    }
  });
}

/** A message: ≤ 50 blocks, its notification text ≤ 4000, every block within its limits. */
export function expectMessageWithinLimits(message: { text: string; blocks: readonly unknown[] }): void {
  expectAtMost('notification text', message.text, LIMITS.fallbackText);
  expectBlocksWithinLimits(message.blocks, LIMITS.messageBlocks);
}

/**
 * A modal: title and buttons ≤ 24, ≤ 100 blocks, metadata ≤ 3000. `whole`: the bot's own words were not cut to
 * fit (a title or button that ends in "…" was too long in that language).
 */
export function expectModalWithinLimits(view: unknown, options: { whole?: boolean } = {}): void {
  const modal = asNode(view);
  for (const part of ['title', 'submit', 'close'] as const) {
    if (modal[part] === undefined) continue;
    const text = textOf(modal[part]);
    expectAtMost(part, text, part === 'title' ? LIMITS.modalTitle : LIMITS.modalButton);
    if (options.whole === true) expect(text.endsWith('…'), `${part} ${JSON.stringify(text)} was cut`).toBe(false);
  }
  expectAtMost('private_metadata', String(modal['private_metadata'] ?? ''), LIMITS.privateMetadata);
  expectBlocksWithinLimits((modal['blocks'] as unknown[] | undefined) ?? [], LIMITS.modalBlocks);
}
