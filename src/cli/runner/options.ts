// The lesson runner's decisions about its options, as pure functions: which scale a run uses
// (--scale, else LESSON_SCALE, else default) and which lessons of a run can be planned (the
// notebooks that parse; the others are reported as failed lessons).
import path from "path";
import { DEFAULT_SCALE, parseScale, type Scale } from "../../core/scale";
import { lessonId, readNotebook, type Notebook } from "./notebook";

/** The scale of a run: --scale when given, else $LESSON_SCALE (the variable the README
 * documents; a bad value is an error naming it), else `default`. */
export function resolveScale(option: Scale | undefined, env: NodeJS.ProcessEnv = process.env): Scale {
  if (option !== undefined) return option;
  const fromEnv = env.LESSON_SCALE;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return parseScale(fromEnv, "LESSON_SCALE");
  return DEFAULT_SCALE;
}

/** Where the scale came from, for the run's first line. */
export function scaleSource(option: Scale | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (option !== undefined) return "--scale";
  return env.LESSON_SCALE !== undefined && env.LESSON_SCALE.trim() !== "" ? "LESSON_SCALE" : "the default";
}

export interface ReadLessons {
  /** Notebooks that parse, with their label ("03"). */
  readable: { file: string; label: string; nb: Notebook }[];
  /** Notebooks that do not, with the error (it names the file). */
  unreadable: { file: string; error: Error }[];
}

/** Reads every selected notebook; one that does not parse is set aside, not fatal. */
export function readLessons(files: string[]): ReadLessons {
  const out: ReadLessons = { readable: [], unreadable: [] };
  for (const file of files) {
    try {
      out.readable.push({ file, label: lessonId(file) ?? path.basename(file), nb: readNotebook(file) });
    } catch (e) {
      out.unreadable.push({ file, error: e as Error });
    }
  }
  return out;
}
