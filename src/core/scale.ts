// Lesson scale: one switch (LESSON_SCALE or the notebook's `parameters` cell) that picks the size
// of every experiment. The numbers for each scale live in settings.ts.

export type Scale = "smoke" | "default" | "full";
export const SCALES: readonly Scale[] = ["smoke", "default", "full"];
export const DEFAULT_SCALE: Scale = "default";

/** Parses a scale name; names the bad value and the allowed ones. */
export function parseScale(value: string, source = "scale"): Scale {
  const v = value.trim().toLowerCase();
  if ((SCALES as readonly string[]).includes(v)) return v as Scale;
  throw new Error(`${source} must be one of ${SCALES.join(", ")}, got ${JSON.stringify(value)}`);
}

/** A scale given as an argument (exact name, no trimming: that is for user-typed values). */
function checkScale(scale: unknown, where: string, remedy?: string): asserts scale is Scale {
  if (!(SCALES as readonly unknown[]).includes(scale)) {
    throw new Error(
      `${where}: scale must be one of ${SCALES.join(", ")}, got ${JSON.stringify(scale)}${remedy ? ` (${remedy})` : ""}`,
    );
  }
}

/** A `scale` option: one of SCALES, or the scale in force (LESSON_SCALE) when not given. */
export function scaleArg(where: string, scale: unknown): Scale {
  if (scale === undefined) return getScale();
  checkScale(scale, where, "or leave it out to use LESSON_SCALE");
  return scale;
}

/** The scale in force: an explicit argument, else LESSON_SCALE, else `default`. */
export function getScale(explicit?: string): Scale {
  if (explicit !== undefined && explicit !== "") return parseScale(explicit, "scale");
  const env = process.env.LESSON_SCALE;
  if (env !== undefined && env !== "") return parseScale(env, "LESSON_SCALE");
  return DEFAULT_SCALE;
}
