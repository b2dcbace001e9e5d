/**
 * The losses a run of the study trains with or logs (issue #15 §3): the seed's five (LOSS_NAMES)
 * and losses of the zoo with their options. A run config names each by a key, a readable and
 * file-safe string used in run ids, logs and reports:
 *
 *   cce, dice, dicefg, dice_square, dicefg_square   the seed's
 *   generalized-dice                                 generalized Dice (Sudre et al.; MONAI's weighting)
 *   tversky                                          Tversky α 0.3, β 0.7; `tversky-a0.5-b0.5` with others
 *   focal                                            focal γ 2; `focal-g1` with another γ
 *   dice-ce                                          Dice + CE, λ 1 and 1; `dice-ce-d0.5-c1` with others
 *   lovasz                                           Lovász-softmax
 *
 * Configs take a key or the loss with its options, `{ "name": "tversky", "alpha": 0.3, "beta": 0.7 }`;
 * options at their defaults give the bare name, so one loss has one key.
 */
import { z } from 'zod';
import { LOSS_NAMES, type LossName } from '../losses/types.js';

/** The zoo's losses a run can train with or log, besides the seed's five (LOSS_NAMES). */
export const ZOO_LOSS_NAMES = ['generalized-dice', 'tversky', 'focal', 'dice-ce', 'lovasz'] as const;
export type ZooLossName = typeof ZOO_LOSS_NAMES[number];
/** A loss's key in configs and logs: a seed loss's name, or a zoo loss's name with its non-default options. */
export type LossKey = string;

const nonNegative = z.number().finite().min(0);
const zooSchemas = {
  'generalized-dice': z.object({ name: z.literal('generalized-dice') }).strict(),
  tversky: z.object({ name: z.literal('tversky'), alpha: nonNegative.default(0.3), beta: nonNegative.default(0.7) }).strict()
    .refine((o) => o.alpha + o.beta > 0, { message: 'alpha + beta must be positive' }),
  focal: z.object({ name: z.literal('focal'), gamma: nonNegative.default(2) }).strict(),
  'dice-ce': z.object({ name: z.literal('dice-ce'), lambdaDice: nonNegative.default(1), lambdaCe: nonNegative.default(1) }).strict()
    .refine((o) => o.lambdaDice + o.lambdaCe > 0, { message: 'lambdaDice + lambdaCe must be positive' }),
  lovasz: z.object({ name: z.literal('lovasz') }).strict(),
} as const;

export type ZooLossSpec =
  | { name: 'generalized-dice' }
  | { name: 'tversky'; alpha: number; beta: number }
  | { name: 'focal'; gamma: number }
  | { name: 'dice-ce'; lambdaDice: number; lambdaCe: number }
  | { name: 'lovasz' };

/** The option letters of each zoo loss's key, in order, with the option each stands for and its default. */
const KEY_OPTIONS: Record<ZooLossName, [letter: string, option: string, fallback: number][]> = {
  'generalized-dice': [],
  tversky: [['a', 'alpha', 0.3], ['b', 'beta', 0.7]],
  focal: [['g', 'gamma', 2]],
  'dice-ce': [['d', 'lambdaDice', 1], ['c', 'lambdaCe', 1]],
  lovasz: [],
};

export function isSeedLoss(key: string): key is LossName {
  return (LOSS_NAMES as readonly string[]).includes(key);
}

/** The key of a zoo loss: its name, then each option as a letter and a number when any is not its default. */
export function zooLossKey(spec: ZooLossSpec): LossKey {
  const options = KEY_OPTIONS[spec.name];
  const values = options.map(([, option]) => (spec as unknown as Record<string, number>)[option]);
  if (options.every(([, , fallback], i) => values[i] === fallback)) return spec.name;
  return [spec.name, ...options.map(([letter], i) => `${letter}${values[i]}`)].join('-');
}

/** The zoo loss a key names, or null (a seed loss, or not a key). */
export function zooLossOf(key: LossKey): ZooLossSpec | null {
  for (const name of ZOO_LOSS_NAMES) {
    if (key === name) return zooSchemas[name].parse({ name }) as ZooLossSpec;
    if (!key.startsWith(`${name}-`) || !KEY_OPTIONS[name].length) continue;
    const parts = key.slice(name.length + 1).split('-');
    const options = KEY_OPTIONS[name];
    if (parts.length !== options.length) return null;
    const spec: Record<string, unknown> = { name };
    for (const [i, [letter, option]] of options.entries()) {
      const match = new RegExp(`^${letter}(\\d+(?:\\.\\d+)?(?:e-?\\d+)?)$`).exec(parts[i]);
      if (!match) return null;
      spec[option] = Number(match[1]);
    }
    const parsed = zooSchemas[name].safeParse(spec);
    return parsed.success ? parsed.data as ZooLossSpec : null;
  }
  return null;
}

/**
 * A loss as a config gives it, a key or `{ name, ...options }`, as its key; a zod issue (naming the
 * losses there are) for anything else.
 */
export const lossKeySchema = z.union([z.string(), z.object({ name: z.string() }).passthrough()]).transform((input, ctx): LossKey => {
  if (typeof input === 'string') {
    if (isSeedLoss(input) || zooLossOf(input)) return input;
  } else if (isSeedLoss(input.name)) {
    if (Object.keys(input).length === 1) return input.name;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `the seed's loss ${input.name} takes no options` });
    return z.NEVER;
  } else if ((ZOO_LOSS_NAMES as readonly string[]).includes(input.name)) {
    const parsed = zooSchemas[input.name as ZooLossName].safeParse(input);
    if (parsed.success) return zooLossKey(parsed.data as ZooLossSpec);
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${input.name}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}` });
    }
    return z.NEVER;
  }
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    message: `unknown loss ${JSON.stringify(typeof input === 'string' ? input : input.name)}: the seed's ${LOSS_NAMES.join(', ')}; `
      + `the zoo's ${ZOO_LOSS_NAMES.join(', ')} (by name, or { "name": "tversky", "alpha": 0.3, "beta": 0.7 } with options)`,
  });
  return z.NEVER;
});

/** Losses in report order: the seed's in LOSS_NAMES order, then the others in the order given. */
export function lossOrder(keys: readonly LossKey[]): LossKey[] {
  const unique = [...new Set(keys)];
  return [...LOSS_NAMES.filter((n) => unique.includes(n)), ...unique.filter((k) => !isSeedLoss(k))];
}

/** How a report names a loss: the seed's in capitals (CCE, DICEFG), the zoo's with their options. */
export function lossTitle(key: LossKey): string {
  if (isSeedLoss(key)) return key.toUpperCase();
  const spec = zooLossOf(key);
  if (!spec) return key;
  switch (spec.name) {
    case 'generalized-dice': return 'Generalized Dice';
    case 'tversky': return `Tversky (α ${spec.alpha}, β ${spec.beta})`;
    case 'focal': return `Focal (γ ${spec.gamma})`;
    case 'dice-ce': return spec.lambdaDice === 1 && spec.lambdaCe === 1 ? 'Dice + CE' : `${spec.lambdaDice}·Dice + ${spec.lambdaCe}·CE`;
    case 'lovasz': return 'Lovász-softmax';
  }
}
