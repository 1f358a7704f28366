// Checks of the data a function is given: a Dataset whose arrays hold its rows, and a model that
// takes rows of that width. Same message format as core/validate.ts.
import type { Dataset } from "./types";
import { argError, checkNonNegativeInt, checkPositiveInt, show } from "../core/validate";

export interface CheckDatasetOptions {
  /** Reject n = 0 (default true: training and scoring need rows). */
  nonEmpty?: boolean;
}

/** A Dataset whose arrays hold its n rows: x [n, dim] row-major, y [n]. */
export function checkDataset(
  where: string,
  param: string,
  ds: unknown,
  opts: CheckDatasetOptions = {},
): asserts ds is Dataset {
  const d = ds as Partial<Dataset> | null | undefined;
  // Duck-typed (length only): notebook cells may build arrays in another realm, where instanceof fails.
  if (d === null || typeof d !== "object" || typeof d.x?.length !== "number" || typeof d.y?.length !== "number") {
    throw argError(
      where,
      param,
      "a Dataset {x: Float32Array, y: Int32Array, n, dim, numClasses, name}",
      d === null || typeof d !== "object" ? show(d) : "an object without x and y arrays",
    );
  }
  const name = `dataset ${show(d.name)}`;
  checkNonNegativeInt(where, `${param}.n`, d.n, name);
  checkPositiveInt(where, `${param}.dim`, d.dim, name);
  checkPositiveInt(where, `${param}.numClasses`, d.numClasses, name);
  // Longer arrays are allowed: `{...ds, n: 64}` is a prefix view of the first 64 rows.
  if (d.x.length < d.n * d.dim) {
    throw argError(
      where,
      `${param}.x`,
      `at least n·dim = ${d.n}·${d.dim} = ${d.n * d.dim} values ([n, dim] row-major)`,
      `${d.x.length} values`,
      name,
    );
  }
  if (d.y.length < d.n) throw argError(where, `${param}.y`, `at least n = ${d.n} labels`, `${d.y.length} labels`, name);
  if ((opts.nonEmpty ?? true) && d.n < 1) throw argError(where, param, "a non-empty dataset (n >= 1)", `n = 0`, name);
}

/** The model takes flat rows [batch, data.dim]. */
export function checkModelTakes(
  where: string,
  param: string,
  model: { inputs: { shape: (number | null)[] }[] },
  ds: Dataset,
): void {
  const inShape = model.inputs[0].shape;
  const shown = `[${inShape.map((d) => d ?? "batch").join(", ")}]`;
  if (inShape.length !== 2)
    throw argError(where, "model", "a model with flat input [batch, features]", `input ${shown}`);
  if (inShape[1] !== ds.dim)
    throw argError(
      where,
      `${param}.dim`,
      `${inShape[1]} (the model's input is ${shown})`,
      String(ds.dim),
      `dataset ${show(ds.name)}`,
    );
}
