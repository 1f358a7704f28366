// Lesson 07's runs in lesson 10's review: records under the names lesson 07 writes (lesson07Method) are found by the
// queries, the question bank cites lesson 07's verdicts on greedy vs end-to-end denoising and on source + DAPT vs the
// source model, and without lesson 07's records the answers say it was not measured (no numbers invented).
import { describe, expect, it } from "vitest";
import { PROTOCOL_VERSION, type ResultRecord } from "../../src/store/results";
import { makeFacts, NOT_MEASURED } from "../../src/review/review";
import { QUESTION_BANK, questionVerdicts, renderQuestions } from "../../src/review/questions";
import { queryAt } from "../../src/review/queries";
import { lesson07Method, type Lesson07Arm } from "../../src/experiments/selfsup";

/** Per-seed deviations: one pattern shared by two arms gives a constant difference; two patterns scatter it. */
const P1 = [0, 0.01, -0.01, 0.02, -0.02];
const P2 = [0.02, -0.02, 0, -0.01, 0.01];

/** Five seeds of one lesson-07 arm, as recordFinalRuns writes them. */
function arm07(arm: Lesson07Arm, task: string, k: number, mean: number, pattern = P1): ResultRecord[] {
  return pattern.map((d, seed) => ({
    lesson: "07",
    method: lesson07Method(arm, "contrastive"),
    task,
    labelsPerClass: k,
    accuracy: mean + d,
    valAccuracy: mean + d,
    retention: null,
    forgetting: null,
    trainableParams: 259274,
    totalParams: 259274,
    seconds: 0.3,
    backend: "cpu",
    scale: "smoke",
    seed,
    protocol: PROTOCOL_VERSION,
    extra: { arm, candidate: "fresh head @ 0.001", steps: 60 },
  }));
}

function lesson07Results(): ResultRecord[] {
  const rows: ResultRecord[] = [];
  for (const k of [1, 10]) {
    const more = k === 10 ? 0.2 : 0;
    // mild: denoising 0.5 points above greedy on every seed (within ±3), greedy well above scratch, DAPT above source.
    rows.push(...arm07("greedy", "mild", k, 0.6 + more));
    rows.push(...arm07("denoising", "mild", k, 0.605 + more));
    rows.push(...arm07("scratch", "mild", k, 0.45 + more, P2));
    rows.push(...arm07("source", "mild", k, 0.7 + more));
    rows.push(...arm07("source+dapt", "mild", k, 0.75 + more, P2));
    // inverted: denoising 8 points above greedy (outside ±3), DAPT below the source model.
    rows.push(...arm07("greedy", "inverted", k, 0.5 + more));
    rows.push(...arm07("denoising", "inverted", k, 0.58 + more));
    rows.push(...arm07("scratch", "inverted", k, 0.49 + more, P2));
    rows.push(...arm07("source", "inverted", k, 0.6 + more));
    rows.push(...arm07("source+dapt", "inverted", k, 0.52 + more, P2));
  }
  return rows;
}

const answer = (id: string, facts: ReturnType<typeof makeFacts>) => {
  const q = QUESTION_BANK.find((x) => x.id === id)!;
  return [q.answer(facts), ...q.followUps.map((f) => f.answer(facts))].join("\n");
};

describe("lesson 07 in the review", () => {
  it("finds lesson 07's arms by their typed names, at the fewest labels", () => {
    const f = makeFacts(lesson07Results());
    expect(f.find({ ...queryAt("greedyAe", "few"), task: "mild" })?.method).toBe("ssl-pretrained:greedy");
    expect(f.find({ ...queryAt("sourceFt", "few"), task: "mild" })?.method).toBe("source-pretrained");
    expect(f.find({ ...queryAt("sourceDapt", "few"), task: "mild" })?.method).toBe(
      "source-pretrained+dapt:contrastive",
    );
    expect(f.find({ ...queryAt("scratchSsl", "few"), task: "inverted" })?.labelsPerClass).toBe(1);
    // Lesson 07's scratch is not lesson 02/03's (their queries stay in their lessons).
    expect(f.find(queryAt("scratchMild", "few"))).toBeNull();
  });

  it("answers 'greedy today' and 'combining' with lesson 07's verdicts", () => {
    const f = makeFacts(lesson07Results());
    const greedy = answer("greedy-today", f);
    expect(greedy).toMatch(
      /lesson 07, mild: end-to-end denoising is within ±3 points of greedy stacked denoising autoencoders \(same objective, same steps; fine-tuned, fewest labels\) — holds \(Δ \+0\.5 points/,
    );
    expect(greedy).toMatch(
      /lesson 07, inverted: end-to-end denoising is within ±3 points .* — contradicted \(Δ \+8\.0 points/,
    );
    expect(greedy).toMatch(/lesson 07, mild: greedy stacked denoising autoencoders beat scratch .* — holds/);
    expect(greedy).toContain("from the literature, not measured here");
    expect(greedy).not.toContain("no lesson 07 runs recorded");
    const combining = answer("combining", f);
    expect(combining).toMatch(
      /lesson 07, mild: the source model \+ continued self-supervised pretraining on the target's images \(DAPT\) beats the source model \(fine-tuned, fewest labels\) — holds/,
    );
    expect(combining).toMatch(/lesson 07, inverted: the source model \+ .* — contradicted/);
    expect(combining).toContain("From the literature, not measured here");
    const claims = questionVerdicts(f).map((v) => v.claim);
    expect(claims.filter((c) => c.startsWith("lesson 07")).length).toBe(6);
    expect(renderQuestions(f)).not.toMatch(/undefined|NaN|\[object Object\]/);
  });

  it("says lesson 07 was not measured when it has not run, with no numbers", () => {
    const f = makeFacts([]);
    for (const id of ["greedy-today", "combining"]) {
      const text = answer(id, f);
      expect(text).toContain(`${NOT_MEASURED} (no lesson 07 runs recorded; run lesson 07 to fill these verdicts in)`);
      expect(text).not.toMatch(/\d+\.\d %|— holds|— contradicted/);
    }
    expect(answer("greedy-today", f)).toContain("still helps");
  });
});
