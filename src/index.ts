// transfer-lab's public surface: what the lessons use, by name, grouped by the lesson that first
// needs it (as PEFT's __init__.py lists __all__). Notebooks import `* as tl from "./src"` and
// nothing else in src/; everything else in the library is internal and may change.

// Setup (lesson 00): backend choice, scale and settings, data, display, plots, tables.
export { formatBackendInfo, setupBackend } from "./backend/backend";
export { matMulMaxError, timeMatMul, type MatMulTiming } from "./backend/matmul-timing";
export { getScale, SCALES, type Scale } from "./core/scale";
export { LESSON_IDS, lessonSettings } from "./core/settings";
export { lessonData } from "./data/lesson-data";
export { classCounts, subset } from "./data/subset";
export { summaryMarkdown } from "./data/summary";
export { shiftTransform, transformDataset } from "./data/transforms";
export type { Dataset } from "./data/types";
export { display } from "./show/display";
export { showImageRows } from "./show/images";
export { barPlot } from "./show/plot";
export { showPlot } from "./show/plotly";
export { table } from "./show/table";

// The measurement protocol every lesson follows: validation choices, paired verdicts over seeds.
export { compareOnSeeds, formatMeanCI, meanCI, pairedDiff, type SeedComparison, type SeedValue } from "./core/stats";
export { TRANSFER_SEEDS } from "./core/settings";
export { chooseOnValidation, choosePerSeed, type Choice, type PerSeedChoice } from "./evaluate/select";
export { describeReuse, PROTOCOL_VERSION } from "./store/results";
export { verdictTable, type VerdictRow } from "./show/verdicts";
export { armValues, runValidatedArm, type ValidatedArm } from "./experiments/validated";

// Lesson 01: greedy layer-wise pretraining, the 2006 problem and the modern recipe.
export { formatPct } from "./core/format";
export { makeTransferTasks } from "./data/tasks";
export type { ClaimSpec } from "./core/stats";
export {
  cachedEncoders,
  cleanSplit,
  epochsFor,
  METHOD_CHANGES,
  pretrainedStackKey,
  pretrainingGain,
  pretrainingValues,
  recordPretrainingRuns,
  runPretrainingExperiment,
  stackConfig,
  summarizePretraining,
  type LabelBudget,
  type PretrainingMeasure,
  type PretrainingMethod,
  type PretrainingRun,
  type PretrainingSplit,
  type SupervisedBudget,
} from "./experiments/pretraining";
export { buildAutoencoder } from "./models/autoencoder";
export { evaluateAccuracy } from "./models/predict";
export { describeInit, getRecipe, type Recipe, type RecipeName } from "./models/recipes";
export { newDisplay } from "./show/display";
export { showImageGrid, type ImageRow } from "./show/images";
export { linePlot } from "./show/plot";
export { progressLine } from "./show/progress";
export { saveModel } from "./store/cache";
export { maskingNoise, trainAutoencoder } from "./train/autoencoder";
export { fit } from "./train/fit";
export { gradientNormsPerLayer, gradientRatio, type LayerGradientNorm } from "./train/gradients";
export {
  buildClassifier,
  encoderFilters,
  encoderStackModel,
  pretrainGreedy,
  reconstructThrough,
  stackEncoders,
} from "./train/greedy";

// Lesson 02: the source model, feature extraction, probes, transfer over label budgets.
export { assertFrozenUnchanged, countParams, formatLayerTable, freezeTo, snapshotWeights } from "./adapt/freezing";
export { pct } from "./core/format";
export { methodName } from "./core/methods";
export { DEFAULT_FINE_TUNE_LR, DEFAULT_HEAD_LR, DEFAULT_SCRATCH_LR, TRANSFER_BUDGETS } from "./core/settings";
export type { ShiftName } from "./data/transforms";
export { evaluateModel, plotConfusion } from "./evaluate/evaluate";
export {
  classSeparation,
  compareFeatureCache,
  extractFeatures,
  linearProbe,
  pca,
  trainingFlopsPerExample,
  type Pca,
} from "./evaluate/features";
export { getSourceModel, sourceTasks } from "./experiments/source";
export {
  accuracyVsLabelsPlot,
  armResults,
  choiceTableRows,
  gainOverBaseline,
  probePlot,
  transferGainPlot,
  type GainRow,
  type NamedArms,
} from "./experiments/transfer-plots";
export {
  probeValues,
  runProbeExperiment,
  summarizeProbes,
  type ProbeRun,
  type ProbeSummaryRow,
} from "./experiments/probes";
export { runTransferExperiment, summarizeTransfer, type TransferVariant } from "./experiments/transfer-sweep";
export { transferEpochs, transferLabel } from "./experiments/transfer";
export { buildSourceModel } from "./models/mlp";
export { replaceHead } from "./models/surgery";
export { multiPanel, scatterPlot } from "./show/plot";
export { readResults, recordResult, summarizeResults } from "./store/results";

// Lesson 03: fine-tuning, freeze ratios, discriminative rates, progressive unfreezing, BatchNorm.
export { probeFrozenBatchNorm, withoutKerasBatchNormRule } from "./adapt/batchnorm";
export { compareWeights, freezeRatio } from "./adapt/freezing";
export { discriminativeMultipliers } from "./adapt/schedules";
export type { ScheduleName } from "./core/methods";
export { measureForgetting } from "./evaluate/evaluate";
export { freezeSweepPlot } from "./experiments/transfer-plots";
export { transferResultsFromRecords, type TransferExperimentRun } from "./experiments/transfer-sweep";
export { chooseArms } from "./experiments/validated";
export { kerasBatchNormalization } from "./models/batchnorm";
export type { History } from "./train/fit";
export { progressiveUnfreeze, twoPhaseFineTune } from "./train/staged";

// Lesson 04: LoRA from scratch, rank sweep, merging, adapters.
export { formatTrainableParams } from "./adapt/freezing";
export { loadAdapter, saveAdapter, savedModelBytes } from "./adapt/lora/adapter";
export { applyLora, loraLayers, mergeLora } from "./adapt/lora/inject";
export { DEFAULT_LORA_ALPHA } from "./adapt/lora/layer";
export { signedPoints } from "./core/format";
export { cacheRoot } from "./core/paths";
export { DEFAULT_LORA_LR } from "./core/settings";
export { maxAbsDiff } from "./evaluate/compare";
export {
  atLearningRate,
  chooseLoraArms,
  loraArmValues,
  loraSweepPlot,
  mergeCheck,
  MLP_LORA_TARGETS,
  recordLoraArms,
  recordLoraRuns,
  runLoraLearningRates,
  runLoraSweep,
  summarizeLoraArms,
  summarizeLoraRuns,
  type LoraArm,
} from "./experiments/lora";
export { exportPlaygroundModels } from "./experiments/playground";
export type { SummaryRow } from "./store/results";

// Lesson 05: the tiny Vision Transformer, freezing blocks, LoRA on attention.
export {
  attentionHeatmaps,
  attentionReceivedImages,
  getPretrainedViT,
  runViTAblationRow,
  runViTExperiment,
  runViTSweep,
  runViTTransfer,
  vitAblationRows,
  vitMethodLabel,
  vitRecipe,
  vitVariantName,
  type PretrainedViTRow,
  type ViTAblationRow,
  type ViTExperimentRun,
  type ViTVariant,
} from "./experiments/vit";
export { measureFreezingCost, type FreezeCost, type FreezeCostRow } from "./experiments/vit-cost";
export {
  FREEZE_COST_CLAIMS,
  freezeFlopBound,
  trainingStepFlops,
  type FreezeCostClaim,
  type StepCost,
  type StepFlops,
} from "./evaluate/cost";
export { DotProductAttention } from "./models/attention";
export {
  attentionMaps,
  DEFAULT_VIT_IMAGE_SIZE,
  DEFAULT_VIT_MLP_RATIO,
  DEFAULT_VIT_PATCH_SIZE,
  DEFAULT_VIT_WIDTH,
  vitDepth,
} from "./models/transformer";

// Lesson 06: a tiny BERT — masked-LM pretraining on the addresses, freezing and LoRA near and far.
export {
  bertArm,
  bertArms,
  bertGain,
  bertSettings,
  bertTasks,
  bertValues,
  bertVariantName,
  bestFreezeDepth,
  BERT_NEAR_MARGIN,
  checkBertParameters,
  deepFreeze,
  evaluateMlm,
  fillInTheBlank,
  naiveBayesBaseline,
  NAIVE_BAYES_ALPHAS,
  pretrainBert,
  ruleOfThumbVerdicts,
  runBertExperiment,
  runBertTransfer,
  SHALLOW_FREEZE,
  type BertExperiment,
  type BertRun,
  type BertVariant,
  type BertVerdict,
  type FillIn,
  type NaiveBayesRun,
  type PretrainedBert,
} from "./experiments/bert";
export {
  bertDepth,
  bertEncoder,
  bertLayersBelow,
  BERT_LORA_TARGETS,
  buildBert,
  paddingDifference,
  pooledSpread,
  setPoolStandardization,
} from "./models/bert";
export {
  decodeIds,
  documentAccuracy,
  emailBody,
  encodeTokens,
  loadAddresses,
  loadEmails,
  maskTokens,
  MLM_RATE,
  TEXT_TARGETS,
  textTasks,
  tokenize,
  windowsOf,
  type TextTargetName,
  type TextTasks,
} from "./data/text";

// Lesson 07: from greedy layer-wise pretraining to self-supervised learning (denoising, masked, contrastive, DAPT).
export {
  augmentRows,
  borderValue,
  DEFAULT_VIEW,
  fillMasked,
  maskedPatchCount,
  patchMask,
  patchMasks,
  randomView,
  type PatchMaskArgs,
  type ViewArgs,
} from "./data/augment";
export {
  backgroundMaskingNoise,
  maskedReconstructionLoss,
  ntXentLoss,
  pretrainSelfSupervised,
  SSL_OBJECTIVES,
  type SelfSupervisedResult,
  type SslObjective,
} from "./train/selfsupervised";
export {
  endToEndMemory,
  greedyStageMemory,
  trainingStepMemory,
  type StageMemory,
  type StepMemory,
} from "./train/step-memory";
export { DEFAULT_RIDGE_ALPHAS, ridgeProbe, type RidgeProbeResult } from "./evaluate/ridge-probe";
export { SOURCE_HIDDEN_UNITS } from "./models/mlp";
export { rng } from "./core/random";
export {
  ARM_PRETRAINING,
  bestSelfSupervisedArm,
  chooseFineTune,
  fineTuneCandidate,
  LESSON07_ARMS,
  SOURCE_HEAD_ARMS,
  runSelfSupExperiment,
  SELF_SUPERVISED_ARMS,
  seedDifferences,
  selfSupValues,
  summarizeArms,
  summarizeCosts,
  type ArmSummary,
  type CostSummary,
  type FineTuneVariant,
  type Lesson07Arm,
  type PretrainCost,
  type ProbeArm,
  type SelfSupExperiment,
} from "./experiments/selfsup";

// Lesson 08: when transfer fails — domain distance (proxy A-distance), AdaBN, domain-adversarial training.
export { adaptBatchNorm, type AdaBNLayerChange } from "./adapt/batchnorm";
export { buildDannModel, GradientReversal, gradientReversal, type DannModel } from "./adapt/dann";
export { domainDistance, distanceProfile, rocAuc, type DomainDistance } from "./evaluate/domain-distance";
export {
  calibrateDistance,
  DOMAIN_TASKS,
  distanceValues,
  domainTask,
  featureLayerOf,
  gainCandidates,
  loadDistanceCalibration,
  rankCorrelationPerSeed,
  representationLayers,
  runAdaBNExperiment,
  runDannExperiment,
  runDistanceExperiment,
  runGainExperiment,
  distanceRankTest,
  referenceImages,
  saveDistanceCalibration,
  spearman,
  spearmanPermutationTest,
  summarizeDistances,
  transferGains,
  type AdaBNRun,
  type DannRun,
  type DistanceCalibration,
  type DistanceRun,
  type DomainTask,
  type RankTarget,
  type RankTest,
  type TaskGain,
  type TaskRankCorrelation,
  type TransferArmName,
} from "./experiments/domain";
export { trainDann } from "./train/dann";

// Lesson 09: the PEFT family at equal budgets (adapters, BitFit, (IA)³, prompt tuning, LoRA) and fine-tuning
// without forgetting (L2-SP, EWC, rehearsal, multi-task, LoRA swapping).
export {
  applyPeft,
  mergePeft,
  peftParamCount,
  PEFT_METHODS,
  specForBudget,
  type PeftMethod,
  type PeftSpec,
} from "./adapt/peft/peft";
export { diagonalFisher, ewcPenalty, l2spPenalty, replayBuffer, type Penalty } from "./adapt/forgetting";
export { maxOutputDiff } from "./evaluate/compare";
export {
  chooseOnBothTasks,
  DEFENCE_KINDS,
  frontierPlot,
  measurePeftCost,
  paretoPlot,
  peftRunsOf,
  peftSize,
  peftVariantLabel,
  peftVariantName,
  runPeftExperiment,
  runPeftTransfer,
  summarizePeftArm,
  withoutAdapter,
  type Defence,
  type DefenceKind,
  type PeftArmSummary,
  type PeftCost,
  type PeftCostRow,
  type PeftExperiment,
  type PeftExperimentRun,
  type PeftRun,
  type PeftVariant,
} from "./experiments/peft";

// Lesson 10: the review across lessons, the decision guide, the question bank.
export { formatCount, formatPoints, labelsText } from "./core/format";
export { interviewCheckpoint, NEAR_MARGIN, type Checkpoint } from "./review/checkpoint";
export { describeFills, describeGuideRows, fillMissingResults, type FillReport } from "./review/fill";
export { queryAt } from "./review/queries";
export { QUESTION_BANK, questionVerdicts, renderQuestions, REVIEW_TOPICS, type ReviewTopic } from "./review/questions";
export {
  accuracyBarPlot,
  accuracyVsParamsPlot,
  comparisonRows,
  comparisonTableRows,
  coverageRows,
  describeOlderProtocol,
  forgettingPlot,
  makeFacts,
  NOT_MEASURED,
  transferCurvePlot,
  type Verdict,
} from "./review/review";
export {
  COMPUTE_TRAINABLE_SHARE,
  COMPUTES,
  measuredBudgets,
  measureSimilarity,
  recommendFromImages,
  recommendStrategy,
  SIMILARITIES,
  SIMILARITY_TASKS,
  transferCrossover,
  type Compute,
  type MeasuredSimilarity,
  type Similarity,
} from "./review/strategy";
export { RESULTS_FILE } from "./store/results";
