import ArgumentParser
import Foundation
import RobustTraining

struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a classifier: standard, AT, TRADES or MART, with AGR on top.",
    discussion: """
      With no flags it runs the built-in quick-start job on the CPU in a few minutes: \(TrainingPreset.quickstart.summary).
      --dataset cifar10 / cifar100 / tiny-imagenet without a preset starts from the paper's recipe (--preset cifar10).
      --preset starts from the paper's settings (cifar10, cifar100, tiny-imagenet) or a short CIFAR-10 check \
      (cifar10-short), or ImageNet: \(TrainingPreset.imagenet.summary); any flag given overrides the preset; --dry-run prints the settings that result \
      (every default included) without training. Fractions are accepted: --eps 8/255; numeric flags take \
      the next word as their value, so a negative one needs no '=' (--beta -6 is read, and refused by range).
      By default the clean forward pass of every step runs in train mode, also for the baselines, as in the \
      AGR authors' code (BatchNorm then sees clean and adversarial batches, so AT and AT+AGR compare exactly); \
      --skip-clean-pass gives plain Madry AT (adversarial batch only; clean train accuracy is then not reported).
      The run directory gets config.json, metrics.jsonl/.csv, diagnostics.jsonl, and checkpoints \
      (last, best by PGD accuracy) in safetensors with PyTorch key names. --resume RUN_DIR continues a stopped run.
      """)

  @Option(help: "Start from a preset: \(choices(TrainingPreset.self)).")
  var preset: String?
  @Option(help: "Start from a run file: the JSON --dry-run prints or a run's config.json, or the same in YAML (.yaml / .yml); flags given beside it override.")
  var config: String?
  @Option(help: "Continue the run in this directory from its last checkpoint (other flags but --device are ignored).")
  var resume: String?

  @Option(help: "Dataset: \(choices(DatasetFormat.self)).") var dataset: String?
  @Option(help: "Folder holding the dataset files (default: $\(DataRoot.environmentVariable)/<dataset>, else data/<dataset>).")
  var dataDir: String?
  @Option(parsing: .unconditional, help: "Use only the first N training images.") var trainSubset: Int?
  @Option(parsing: .unconditional, help: "Evaluate on the first N test images each epoch.") var testSubset: Int?
  @Option(help: "Extra labelled images mixed into every training batch (DM-Improves-AT's generated data): an uncompressed .npz holding 'image' (N x H x W x C, uint8) and 'label' (N), or a folder holding image.npy and label.npy; read in place (memory-mapped).")
  var extraData: String?
  @Option(parsing: .unconditional, help: "The share of each training batch drawn from --extra-data (default 0.7, DM-Improves-AT's --unsup-fraction).")
  var extraFraction: Double?
  @Option(parsing: .unconditional, help: "Samples per epoch with --extra-data (default: the training set's size): an epoch is a number of samples, not a pass over the extra data.")
  var epochSize: Int?
  @Option(parsing: .unconditional, help: "Threads decoding a streamed dataset's JPEGs (--dataset imagenet; default: one per core, or under data parallelism the cores divided among this machine's ranks, LOCAL_WORLD_SIZE).")
  var decodeThreads: Int?
  @Option(parsing: .unconditional, help: "Side of a streamed dataset's model inputs (default 224; the evaluation resizes the shorter side to 256/224 of it, then crops the centre).")
  var imageSize: Int?
  @Option(help: "Model: \(choices(ModelArchitecture.self, \.summary)).") var model: String?
  @Option(parsing: .unconditional, help: "Dropout probability of SmallCNN's classifier (default 0.5, as TRADES).") var dropout: Double?
  @Option(help: "Train a TorchScript module instead (torch.jit.script(model).save(PATH); scripts/export_model.py makes one): its state_dict names, its forward pass.")
  var modelFile: String?
  @Option(help: "Method: \(choices(TrainingMethod.self, \.summary)).") var method: String?
  @Flag(inversion: .prefixedNo, help: "Adaptive gradient reconstruction on top of the method.") var agr: Bool?
  @Option(parsing: .unconditional, help: "First epoch (1-based) with AGR; earlier epochs pay no extra backward pass.") var agrStartEpoch: Int?
  @Option(parsing: .unconditional, help: "AGR's per-tensor gradient norm bound C.") var agrClip: Double?
  @Option(parsing: .unconditional, help: "TRADES/MART beta.") var beta: Double?
  @Option(help: "TRADES training attack: \(choices(TrainingAttackLoss.self, \.summary)).") var tradesAttack: String?
  @Flag(help: "Plain AT: no clean forward pass in train mode for the baseline.") var skipCleanPass = false
  @Option(help: "Input normalisation inside the model: none, \(InputNormalization.named.keys.sorted().joined(separator: ", ")) or MEAN/STD (e.g. 0.5,0.5,0.5/0.25,0.25,0.25); recorded in checkpoints.")
  var normalization: String?
  @Flag(inversion: .prefixedNo, help: "MART as the AGR authors' code: the forward passes repeated in train mode (BatchNorm statistics updated 4 times per step, not 2; same gradients).")
  var martRepeatedPasses: Bool?
  @Flag(inversion: .prefixedNo, help: "AWP (adversarial weight perturbation, Wu et al.) on top of the method.") var awp: Bool?
  @Option(parsing: .unconditional, help: "AWP's perturbation size gamma (default \(AdversarialWeightPerturbation.defaultGamma); 5e-3 is the usual TRADES-AWP value).")
  var awpGamma: Double?
  @Option(parsing: .unconditional, help: "Learning rate of AWP's proxy step (default \(AdversarialWeightPerturbation.defaultProxyLearningRate)).") var awpProxyLr: Double?
  @Option(parsing: .unconditional, help: "Epochs trained without AWP first (default 0).") var awpWarmup: Int?
  @Flag(inversion: .prefixedNo, help: "AVmixup with the paper's soft labels (label smoothing 0.5 / 0.7) instead of the AGR authors' hard labels.")
  var avmixupSoftLabels: Bool?
  @Option(help: "Training PGD iterates: \(choices(TrainingPerturbation.Iterates.self, \.summary)).") var trainingPgd: String?
  @Option(help: "Training attack: \(choices(TrainingPerturbation.Attack.self, \.summary)) (default pgd; the single-step ones' noise and step: --set perturbation.noise=K, perturbation.step_multiplier=M, in units of eps; perturbation.attack_in_train_mode=true as their authors' code).")
  var trainingAttack: String?
  @Option(parsing: .unconditional, help: "Free-AT's m (--training-attack free; default \(FreeAdversarialTraining.defaultReplays)): each batch is trained m times, so --epochs E costs about as much as E*m epochs of FGSM; the authors train E/m epochs for a budget of E. Their carried perturbation is the default; --set perturbation.carry=false starts it from zero every batch as the FastAT benchmark.")
  var freeReplays: Int?
  @Option(parsing: .unconditional, help: "Catastrophic-overfitting check: PGD steps on a held training batch after every epoch (Wong et al.: 5; 0: no check).")
  var overfitCheckSteps: Int?
  @Option(parsing: .unconditional, help: "The check's absolute drop in held-batch PGD accuracy that flags an epoch (default \(OverfitCheck.defaultDrop)).")
  var overfitDrop: Double?
  @Option(parsing: .unconditional, help: "Also flag an epoch whose held-batch accuracy under the training attack exceeds its PGD accuracy by more than this (e.g. 0.3): catastrophic overfitting that sets in before the PGD accuracy ever rose (off by default; Wong et al.'s rule is the drop).")
  var overfitGap: Double?
  @Option(help: "What the drop is measured from: \(choices(OverfitReference.self, \.summary)) (default previous).") var overfitReference: String?
  @Flag(inversion: .prefixedNo, help: "Stop at the first epoch the check flags, keeping the epoch before's checkpoint (Wong et al.'s early stop; checks with 5 PGD steps unless --overfit-check-steps).")
  var stopOnOverfit: Bool?
  @Option(parsing: .unconditional, help: "GradAlign (Andriushchenko & Flammarion): add LAMBDA (1 - cos) of the input gradients at the clean point and a uniform one in the eps-ball to the loss (theirs: 0.2 at 8/255).")
  var gradAlign: Double?
  @Option(parsing: .unconditional, help: "Label smoothing S of the training loss's cross-entropy (torch's label_smoothing; at, trades, standard).")
  var labelSmoothing: Double?
  @Option(parsing: .unconditional, help: "Epochs.") var epochs: Int?
  @Option(parsing: .unconditional, help: "Batch size.") var batchSize: Int?
  @Option(name: .customLong("lr"), parsing: .unconditional, help: "Base learning rate.") var learningRate: Double?
  @Option(help: "Schedule: multistep[:E1,E2[:factor]], cosine, onecycle[:PEAK] (0 -> lr at PEAK, a share of the run, default 0.4 -> 0, per iteration), constant.") var lrSchedule: String?
  @Option(parsing: .unconditional, help: "SGD momentum.") var momentum: Double?
  @Option(parsing: .unconditional, help: "Weight decay.") var weightDecay: Double?
  @Option(help: "Optimizer: \(choices(OptimizerKind.self, \.summary)) (default sgd).") var optimizer: String?
  @Flag(inversion: .prefixedNo, help: "SGD with Nesterov momentum.") var nesterov: Bool?
  @Option(help: "AdamW's betas B1,B2 (default \(AdamW.defaultBetas.0),\(AdamW.defaultBetas.1)).") var adamBetas: String?
  @Option(parsing: .unconditional, help: "AdamW's epsilon (default \(AdamW.defaultEpsilon)).") var adamEps: Double?
  @Option(help: "Parameters weight decay applies to: \(choices(WeightDecayScope.self, \.summary)) (default all).")
  var weightDecayScope: String?
  @Option(help: "Threat model of training and its evaluation: \(Norm.allCases.map { "\($0.flagName) (\($0.summary))" }.joined(separator: ", ")) (default linf; l2 or l1 without --eps converts the preset's radius and step, e.g. CIFAR-10 8/255, 2/255 to Rice et al.'s L2 128/255, 15/255).")
  var norm: String?
  @Option(parsing: .unconditional, help: "Radius of the attacks in --norm (e.g. 8/255 for linf, 128/255 for l2, 12 for l1).") var eps: String?
  @Option(parsing: .unconditional, help: "Training attack step size (e.g. 2/255).") var stepSize: String?
  @Option(parsing: .unconditional, help: "Training attack PGD steps.") var attackSteps: Int?
  @Option(parsing: .unconditional, help: "PGD steps of the per-epoch robust test evaluation (0: clean only).") var evalSteps: Int?
  @Option(parsing: .unconditional, help: "Step size of the per-epoch PGD (e.g. 2/255; default: the training attack's, the paper presets 2/255).")
  var evalStepSize: String?
  @Option(help: "Training augmentations, comma-separated, in this order: \(choices(Augmentation.self, \.summary)); or none.")
  var augment: String?
  @Flag(help: "No training augmentation (--augment none).") var noAugment = false
  @Option(parsing: .unconditional, help: "Average the weights with this decay per step (e.g. 0.995; Gowal et al.), evaluated each epoch beside the model and saved as averaged.safetensors.")
  var weightAveraging: Double?
  @Option(help: "Which weights best.safetensors keeps: \(choices(TrainingConfiguration.BestWeights.self, \.summary)) (default: averaged when averaging).")
  var bestBy: String?
  @Option(parsing: .unconditional, help: "Seed for initialisation, batch order, augmentation and attack starts.") var seed: UInt64?
  @Option(help: "cpu, cuda or cuda:N.") var device: String?
  @Option(help: "Precision: \(choices(Precision.self, \.summary)).") var precision: String?
  @Flag(inversion: .prefixedNo, help: "channels-last memory format (default: on for CUDA, where cuDNN's kernels are NHWC; off on the CPU).")
  var channelsLast: Bool?
  @Flag(help: "Replay each training step from a CUDA graph (GPU; needs libctorch_cuda_graphs.so beside agr, a multistep or constant schedule).")
  var cudaGraphs = false
  @Option(help: "AGR arithmetic: flat (packed gradients) or per-tensor; the same numbers (default: flat on a GPU, per-tensor on the CPU).")
  var agrPath: String?
  @Option(parsing: .unconditional, help: "Record per-tensor gradient cosine/norms every N iterations (0: never).") var diagnosticsEvery: Int?
  @Option(parsing: .unconditional, help: "Read metrics back from the device every N steps.") var logEvery: Int?
  @Option(help: "Run directory (default runs/<dataset>-<model>-<method>[-agr]-<time>).") var output: String?
  @Option(name: .customLong("set"), parsing: .unconditionalSingleValue,
          help: "Any setting by its config.json key, KEY=VALUE (repeatable; after the flags): --set awp_gamma=5e-3, --set perturbation.epsilon=8/255.")
  var settings: [String] = []
  @Flag(help: "Print the resolved configuration (preset, defaults and flags) as JSON and exit.") var dryRun = false
  @Option(parsing: .unconditional, help: "Data-parallel: start N ranks on this machine (CPU processes over Gloo) and supervise them; --batch-size stays the global batch. Ranks started by torchrun or srun need no flag (they read RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT).")
  var nprocPerNode: Int?
  @Option(parsing: .unconditional, help: "Data-parallel over several machines: the number of machines, each running agr train --nproc-per-node with its --node-rank.")
  var nnodes: Int = 1
  @Option(parsing: .unconditional, help: "This machine's index (0 runs rank 0 and the rendezvous) with --nnodes.") var nodeRank: Int = 0
  @Option(help: "Address of the machine of --node-rank 0 (default 127.0.0.1; required with --nnodes above 1).") var masterAddr: String?
  @Flag(help: "Data-parallel: BatchNorm statistics over the global batch (as torch.nn.SyncBatchNorm); by default each rank normalises with its shard's, as PyTorch's DDP, and the running statistics are averaged over the ranks every step.")
  var syncBn = false
  @Option(parsing: .unconditional, help: "Rendezvous port for --nproc-per-node (default: a free one; required with --nnodes above 1).")
  var masterPort: Int?
  @Option(parsing: .unconditional, help: "Data-parallel: seconds a rank waits for the others (rendezvous, each collective) before it stops with an error naming the ranks that are behind.")
  var distTimeout: Double = 300
  @Option(parsing: .unconditional, help: "Data-parallel: the gradients' all-reduce runs in buckets of this many MB, each started during the backward pass as soon as its gradients are ready (as PyTorch DDP's bucket_cap_mb); 0: one flat all-reduce after the backward passes.")
  var bucketMb: Double = DataParallelOptions.defaultBucketMegabytes
  @Option(help: "Data-parallel: the gradients' collectives, nccl or gloo (default: nccl for CUDA ranks, gloo for CPU ranks; gloo on CUDA ranks stages through host memory).")
  var distBackend: String?

  func run() throws { try reportingErrors(Train.self, execute) }

  private func dataParallelOptions() throws -> DataParallelOptions {
    if let problem = DataParallelOptions.bucketProblem(bucketMb) { throw ValidationError("--bucket-mb \(problem)") }
    var backend: CollectiveBackend?
    if let distBackend {
      guard let named = CollectiveBackend(rawValue: distBackend.lowercased()) else {
        throw ValidationError("--dist-backend must be nccl or gloo, not '\(distBackend)'")
      }
      backend = named
    }
    return DataParallelOptions(backend: backend, bucketMegabytes: bucketMb)
  }

  private func execute() throws {
    if let problem = DurationRange.problem(seconds: distTimeout) { throw ValidationError("--dist-timeout \(problem)") }
    let options = try dataParallelOptions()
    let place = try DistributedEnvironment.read()
    if let nprocPerNode, place == nil, !dryRun { return try launch(nprocPerNode) }
    // a rank catches Ctrl-C from the start: a stop asked for while the ranks meet or load data still stops them together
    if place != nil {
      StopRequest.install()
      WorkerLauncher.exitWithLauncher()
    }
    let job = try place.map { try DataParallel(environment: $0, timeoutSeconds: distTimeout, options: options) }
    // Only rank 0 (or a process training alone) prints progress and writes the run's files.
    let leads = job?.writesFiles ?? true
    let printer = ProgressPrinter()
    if let resume {
      let run = RunDirectory(URL(fileURLWithPath: resume))
      var configuration = try run.readConfiguration()
      // Another device of the same kind may continue a run (agr grid --devices hands out whichever is free).
      if let device {
        do { configuration.device = try Device(parsing: device) } catch { throw ValidationError("--device: \(error)") }
      }
      try job?.checkSameSettings(try Trainer.sharedSettings(configuration))
      configuration = try placed(configuration, on: job)
      let lock = leads ? try run.lock() : nil
      let trainer = try makeTrainer(configuration, run: run, printer: leads ? printer : nil, job: job)
      var next = 0
      do {
        next = try trainer.restore(from: run)
      } catch TrainingError.noCheckpoint {
        if leads { print("\(run.url.path): no epoch had finished; training it again from epoch 1") }
      }
      guard next < configuration.epochs else {
        if leads { print("\(resume): all \(configuration.epochs) epochs are done; nothing to resume") }
        return
      }
      if next > 0, leads { print("resuming \(run.url.path) at epoch \(next + 1) of \(configuration.epochs)") }
      try finish(trainer, from: next, run: run, printer: leads ? printer : nil)
      withExtendedLifetime(lock) {}
      return
    }
    var configuration = try buildConfiguration()
    if dryRun {
      if !leads { return }
      print("agr train --dry-run: the resolved configuration, every default written out (no data read, nothing written):")
      print(String(decoding: try RunDirectory.configurationJSON(configuration.withDefaultsWritten()), as: UTF8.self))
      for line in configuration.deviceDependentDefaults { print("# device-dependent: \(line)") }
      return
    }
    try job?.checkSameSettings(try Trainer.sharedSettings(configuration))
    configuration = try placed(configuration, on: job)
    // the default name holds the time: every rank takes rank 0's
    let runPath = try job?.agree(on: output ?? defaultRunName(configuration), key: "run directory")
      ?? output ?? defaultRunName(configuration)
    let run = RunDirectory(URL(fileURLWithPath: runPath))
    guard leads else {
      let trainer = try makeTrainer(configuration, run: run, printer: nil, job: job)
      return try finish(trainer, from: 0, run: run, printer: nil)
    }
    let existed = FileManager.default.fileExists(atPath: run.url.path)
    // The data, and whether the model trains on it (a model file that fails only in train mode or backward),
    // before the run directory is made: a run refused here leaves nothing behind.
    let data = try loadData(configuration)
    try configuration.modelSource.checkTrainingStep(classCount: data.classCount, inputShape: data.imageShape,
                                                    normalization: configuration.normalization)
    let lock = try run.lock()
    if run.isRun {
      throw CommandError("\(run.url.path) already holds a run; use --resume \(run.url.path) or another --output")
    }
    if preset == nil && config == nil && CommandLine.arguments.count <= 2 {
      print("agr train: no flags given, running the built-in quick-start job:")
      print("  \(TrainingPreset.quickstart.summary)")
      print("  (a subset and a cheaper training attack keep it to a few minutes; --preset cifar10 is the paper's recipe)")
    }
    let trainer: Trainer
    do {
      trainer = try makeTrainer(configuration, data: data, run: run, printer: printer, job: job)
    } catch {
      // Nothing was trained: leave no folder behind that was not there before.
      if !existed { try? FileManager.default.removeItem(at: run.url) }
      throw error
    }
    try finish(trainer, from: 0, run: run, printer: printer)
    withExtendedLifetime(lock) {}
  }

  /// Starts `count` ranks of this command on this machine and supervises them.
  /// The configuration on this rank's device (`cuda:LOCAL_RANK` for CUDA ranks) with its gradients' backend ready.
  private func placed(_ c: TrainingConfiguration, on job: DataParallel?) throws -> TrainingConfiguration {
    guard let job else {
      if distBackend != nil { throw ValidationError("--dist-backend applies to data-parallel ranks (--nproc-per-node, torchrun, srun)") }
      return c
    }
    try prepare(c.device)
    var placed = c
    placed.device = try job.prepare(device: c.device)
    return placed
  }

  /// What the ranks' device allows, checked before any rank starts: enough GPUs for CUDA ranks, NCCL only on them.
  private func checkDevice(forRanks count: Int) throws {
    let device = try resume.map { try RunDirectory(URL(fileURLWithPath: $0)).readConfiguration().device } ?? buildConfiguration().device
    let chosen = try self.device.map { try Device(parsing: $0) } ?? device
    guard chosen.isCUDA else {
      if distBackend?.lowercased() == "nccl" {
        throw ValidationError("--dist-backend nccl needs CUDA ranks (--device cuda); ranks on the CPU use gloo, the default there")
      }
      return
    }
    try prepare(chosen)
    let shared = ProcessInfo.processInfo.environment[DataParallel.shareDeviceVariable] == "1"
    guard count <= CUDA.deviceCount || shared else {
      throw ValidationError("--nproc-per-node \(count) is more than this machine's \(CUDA.deviceCount) GPU\(CUDA.deviceCount == 1 ? "" : "s") "
        + "(each CUDA rank takes one: cuda:LOCAL_RANK)")
    }
  }

  private func launch(_ count: Int) throws {
    if let problem = WorkerLauncher.processCountProblem(count) { throw ValidationError("--nproc-per-node \(problem)") }
    try checkDevice(forRanks: count)
    guard (1...WorkerLauncher.maximumNodeCount).contains(nnodes) else {
      throw ValidationError("--nnodes must lie in 1...\(WorkerLauncher.maximumNodeCount), got \(nnodes)")
    }
    guard (0..<nnodes).contains(nodeRank) else { throw ValidationError("--node-rank must lie in 0..<\(nnodes) (--nnodes), got \(nodeRank)") }
    if nnodes > 1 {
      guard masterAddr != nil else { throw ValidationError("--nnodes \(nnodes): give --master-addr, the address of the machine of --node-rank 0") }
      guard masterPort != nil else { throw ValidationError("--nnodes \(nnodes): give --master-port, the same free port on every machine") }
    }
    if let masterPort, !(1...65535).contains(masterPort) { throw ValidationError("--master-port must be a TCP port, got \(masterPort)") }
    var arguments = withoutLauncherFlags(Array(CommandLine.arguments.dropFirst()))
    if resume == nil && output == nil {
      // the ranks must agree on one run directory: name it here, once (rank 0's name wins across machines)
      arguments += ["--output", defaultRunName(try buildConfiguration())]
    }
    var launcher = WorkerLauncher(executable: WorkerLauncher.currentExecutable, arguments: arguments, processCount: count,
                                  masterPort: try masterPort ?? TCPStore.freeLoopbackPort())
    launcher.nodeCount = nnodes
    launcher.nodeRank = nodeRank
    launcher.masterAddress = masterAddr ?? "127.0.0.1"
    let ranks = "\(count) data-parallel rank\(count == 1 ? "" : "s")"
    print("agr train: starting \(ranks) on this machine" + (nnodes > 1 ? " (node \(nodeRank) of \(nnodes))" : "")
      + " (rendezvous \(launcher.masterAddress):\(launcher.masterPort))")
    let status = try launcher.run { FileHandle.standardError.write(Data("agr train: \($0)\n".utf8)) }
    if status != 0 { throw ExitCode(status) }
  }

  /// The run's training and test sets, its extra images (opened and checked: every problem with them is
  /// found here, before a run directory is made), and the seconds reading them took.
  private func loadData(_ c: TrainingConfiguration) throws -> RunData {
    let reading = Date()
    let format = try DatasetFormat.named(c.dataset)
    let directory = c.dataDirectory.map { URL(fileURLWithPath: $0) }
    if format.isStreamed {
      let folder = try DataRoot.standard.folder(for: format, directory: directory)
      let lists = (train: try FolderImageList.load(from: folder, split: .train),
                   test: try FolderImageList.load(from: folder, split: .test))
      let side = c.imageSize ?? FolderTransform.training.outputSize
      return RunData(data: .streamed(train: lists.train, test: lists.test), extra: nil, streamedShape: [3, side, side],
                     seconds: Date().timeIntervalSince(reading))
    }
    let train = try DataRoot.standard.load(format, directory: directory, split: .train)
    let test = try DataRoot.standard.load(format, directory: directory, split: .test)
    let extra = try c.extraData.map { try ExtraImages(path: $0, fitting: train) }
    return RunData(data: .inMemory(train: train, test: test), extra: extra, streamedShape: [],
                   seconds: Date().timeIntervalSince(reading))
  }

  private struct RunData {
    enum Sets {
      case inMemory(train: LabeledImages, test: LabeledImages)
      /// File lists of JPEG folders decoded as they are read.
      case streamed(train: FolderImageList, test: FolderImageList)
    }
    let data: Sets
    let extra: ExtraImages?
    /// (C, H, W) of a streamed dataset's model inputs.
    let streamedShape: [Int]
    let seconds: Double

    var counts: (train: Int, test: Int) {
      switch data {
      case .inMemory(let train, let test): return (train.count, test.count)
      case .streamed(let train, let test): return (train.count, test.count)
      }
    }
    var classCount: Int {
      switch data {
      case .inMemory(let train, _): return train.classCount
      case .streamed(let train, _): return train.classCount
      }
    }
    var imageShape: [Int] {
      switch data {
      case .inMemory(let train, _): return train.imageShape
      case .streamed: return streamedShape
      }
    }
  }

  private func makeTrainer(_ c: TrainingConfiguration, data: RunData? = nil,
                           run: RunDirectory, printer: ProgressPrinter?, job: DataParallel?) throws -> Trainer
  {
    try prepare(c.device)
    if c.cudaGraphs == true {
      do { try CUDAGraph.loadLibrary() } catch { throw CommandError("--cuda-graphs: \(error)") }
    }
    let data = try data ?? loadData(c)
    Torch.manualSeed(c.seed)
    let model = try c.modelSource.make(classCount: data.classCount, inputShape: data.imageShape,
                                       normalization: c.normalization, dropout: c.dropout)
    printer?.describe(c, trainCount: data.counts.train, testCount: data.counts.test, classCount: data.classCount,
                      readSeconds: data.seconds, model: model, run: run)
    // Only the process that writes the run's files (rank 0) logs to TensorBoard.
    let tensorBoard = printer == nil ? nil : TensorBoardLog.opened(for: run)
    if let extra = data.extra, let printer {
      printer.describeExtra(extra, trainCount: c.trainSubset.map { min($0, data.counts.train) } ?? data.counts.train,
                            configuration: c)
    }
    let trainer: Trainer
    switch data.data {
    case .inMemory(let train, let test):
      trainer = try Trainer(configuration: c, model: model, train: train, test: test, run: run, dataParallel: job,
                            extra: data.extra)
    case .streamed(let train, let test):
      trainer = try Trainer(configuration: c, model: model, streaming: train, test: test, run: run, dataParallel: job)
    }
    if let job, printer != nil {
      let buckets = trainer.step.reducer.map {
        "in \($0.bucketCount) bucket\($0.bucketCount == 1 ? "" : "s") of up to \(String(format: "%g", job.options.bucketMegabytes)) MB, "
          + "each all-reduced during the backward pass"
      } ?? "in one flat all-reduce after the backward passes (--bucket-mb 0)"
      let backend = job.deviceGroup.backend == "nccl" ? "NCCL" : "Gloo"
      print("parallel: \(job.worldSize) data-parallel ranks over \(backend); the global batch of \(c.batchSize) is split, "
        + "about \(c.batchSize / job.worldSize) images per rank and step; gradients \(buckets)")
    }
    // the printer and TensorBoard are hooks like any other (after the weight average, which the epoch reports)
    if let tensorBoard { trainer.hooks.append(tensorBoard) }
    if let printer { trainer.hooks.append(printer) }
    return trainer
  }

  /// Trains from `epoch`; Ctrl-C stops at the next step with the way to resume (exit status 130).
  private func finish(_ trainer: Trainer, from epoch: Int, run: RunDirectory, printer: ProgressPrinter?) throws {
    StopRequest.install()
    let records: [EpochRecord]
    do {
      records = try trainer.train(from: epoch)
    } catch let error as TrainingError {
      guard case .interrupted = error else { throw error }
      guard printer != nil else { throw ExitCode(130) }
      FileHandle.standardError.write(Data("\n\(error)\ncontinue with: agr train --resume \(run.url.path)\n".utf8))
      throw ExitCode(130)
    }
    guard !records.isEmpty, let printer else { return }
    printer.summary(records, configuration: trainer.configuration, run: run)
    if let job = trainer.dataParallel {
      print(String(format: "parallel: %d ranks; each step all-reduced %.1f MB per rank (the last step's bucket)",
                   job.worldSize, Double(job.bytesPerStep) / 1e6))
    }
    if let graphed = trainer.graphedStep {
      print("CUDA graphs: \(graphed.captureCount) recorded (one per learning rate and AGR switch), "
        + "\(graphed.plainSteps) steps ran plain (first update, diagnostics, partial batches"
        + (graphed.disabledReason.map { "; recording failed: \($0)" } ?? "") + ")")
    }
  }

  func buildConfiguration() throws -> TrainingConfiguration {
    var c: TrainingConfiguration
    if let config {
      guard preset == nil else { throw ValidationError("--config and --preset: give one of them") }
      do { c = try TrainingConfiguration.read(from: URL(fileURLWithPath: config)) } catch let error as ConfigurationError {
        throw ValidationError("--config \(config): \(error)")
      }
    } else {
      let start: TrainingPreset = try preset.map { try parseChoice($0, flag: "--preset") } ?? .starting(dataset: dataset)
      c = start.configuration
    }
    if let dataset {
      let format: DatasetFormat = try parseChoice(dataset, flag: "--dataset")
      c.dataset = format.rawValue
    }
    if let dataDir { c.dataDirectory = dataDir }
    if let trainSubset { c.trainSubset = trainSubset }
    if let testSubset { c.testSubset = testSubset }
    // absolute, so that a resume from another folder finds it
    if let extraData { c.extraData = URL(fileURLWithPath: extraData).standardizedFileURL.path }
    if let extraFraction { c.extraFraction = extraFraction }
    if let epochSize { c.epochSize = epochSize }
    if let decodeThreads { c.decodeThreads = decodeThreads }
    if let imageSize { c.imageSize = imageSize }
    if let model {
      c.model = try parseModel(model)
      (c.modelFile, c.modelFileChecksum) = (nil, nil)
    }
    if let modelFile {
      guard model == nil else { throw ValidationError("--model and --model-file: give one of them") }
      do { try c.useModelFile(modelFile) } catch { throw ValidationError("--model-file: \(error)") }
    }
    if let dropout { c.dropout = dropout }
    if let method { c.method = try parseChoice(method, flag: "--method") }
    if let agr { c.agr = agr }
    if let agrStartEpoch { c.agrStartEpoch = agrStartEpoch }
    if let agrClip { c.agrClip = agrClip }
    if let beta { c.beta = beta }
    if let tradesAttack {
      c.perturbation.loss = try parseChoice(tradesAttack, flag: "--trades-attack")
    } else if method != nil && c.method == .trades {
      // switching to TRADES by flag takes TRADES' own attack; a run file keeps the one it names
      c.perturbation.loss = .kl
    }
    if skipCleanPass { c.cleanPassInTrainMode = false }
    if let normalization {
      do { c.normalization = try InputNormalization.parse(normalization) } catch let error as ConfigurationError {
        throw ValidationError(flagMessage(error))
      }
    }
    if let martRepeatedPasses { c.martRepeatedPasses = martRepeatedPasses }
    if let avmixupSoftLabels { c.avmixupSoftLabels = avmixupSoftLabels }
    if let awp { c.awp = awp }
    if let awpGamma { c.awpGamma = awpGamma }
    if let awpProxyLr { c.awpProxyLearningRate = awpProxyLr }
    if let awpWarmup { c.awpWarmup = awpWarmup }
    if let trainingPgd { c.perturbation.iterates = try parseChoice(trainingPgd, flag: "--training-pgd") }
    if let trainingAttack { c.perturbation.attack = try parseChoice(trainingAttack, flag: "--training-attack") }
    if let freeReplays { c.perturbation.replays = freeReplays }
    if let epochs { c.epochs = epochs }
    if let batchSize { c.batchSize = batchSize }
    if let learningRate { c.learningRate = learningRate }
    if let momentum { c.momentum = momentum }
    if let weightDecay { c.weightDecay = weightDecay }
    if let optimizer { c.optimizer = try parseChoice(optimizer, flag: "--optimizer") }
    if let nesterov { c.nesterov = nesterov }
    if let adamBetas {
      let parts = adamBetas.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
      guard parts.count == 2, let beta1 = parts[0], let beta2 = parts[1] else {
        throw ValidationError("--adam-betas: expected two numbers B1,B2 (e.g. 0.9,0.999), got '\(adamBetas)'")
      }
      (c.adamBeta1, c.adamBeta2) = (beta1, beta2)
    }
    if let adamEps { c.adamEpsilon = adamEps }
    if let weightDecayScope { c.weightDecayScope = try parseChoice(weightDecayScope, flag: "--weight-decay-scope") }
    if let lrSchedule {
      do {
        c.schedule = try LearningRateSchedule.parse(lrSchedule, base: c.learningRate, epochs: c.epochs)
      } catch { throw ValidationError("--lr-schedule: \(error)") }
    } else {
      c.schedule = c.schedule.rebased(to: c.learningRate)
    }
    if let norm {
      let threatNorm: Norm
      do { threatNorm = try Norm(parsing: norm) } catch { throw ValidationError("--norm: \(error)") }
      if threatNorm != c.perturbation.threatNorm {
        let features = c.datasetFormat?.imageShape?.reduce(1, *) ?? 3072
        c.perturbation = c.perturbation.converted(to: threatNorm, features: features)
        if evalStepSize == nil { c.evalStepSize = nil }  // the preset's L-inf step: take the converted training step
      } else {
        c.perturbation.norm = threatNorm
      }
    }
    if let eps { c.perturbation.epsilon = try parseFraction(eps, flag: "--eps") }
    if let stepSize { c.perturbation.stepSize = try parseFraction(stepSize, flag: "--step-size") }
    if let attackSteps { c.perturbation.steps = attackSteps }
    if let evalSteps { c.evalSteps = evalSteps }
    if let overfitCheckSteps { c.overfitCheckSteps = overfitCheckSteps }
    if let overfitDrop { c.overfitDrop = overfitDrop }
    if let overfitGap { c.overfitGap = overfitGap }
    if let overfitReference { c.overfitReference = try parseChoice(overfitReference, flag: "--overfit-reference") }
    if let stopOnOverfit { c.stopOnOverfit = stopOnOverfit }
    if let labelSmoothing { c.labelSmoothing = labelSmoothing }
    if let gradAlign { c.gradAlign = gradAlign }
    if let evalStepSize { c.evalStepSize = try parseFraction(evalStepSize, flag: "--eval-step-size") }
    if noAugment || augment != nil {
      let kinds: [Augmentation] = try noAugment ? [] : (augment ?? "").lowercased() == "none" ? []
        : (augment ?? "").split(separator: ",").map { try parseChoice(String($0).trimmingCharacters(in: .whitespaces), flag: "--augment") }
      c.augmentations = Augmentation.allCases.filter(kinds.contains)
      c.augment = kinds.contains(.crop) || kinds.contains(.flip)
    }
    if let seed { c.seed = seed }
    if let device {
      do { c.device = try Device(parsing: device) } catch { throw ValidationError("--device: \(error)") }
    }
    if let precision { c.precision = try parseChoice(precision, flag: "--precision") }
    if let channelsLast { c.channelsLast = channelsLast }
    if cudaGraphs { c.cudaGraphs = true }
    if syncBn { c.synchronizedBatchNorm = true }
    if let agrPath { c.agrPath = try parseChoice(agrPath, flag: "--agr-path") }
    if let weightAveraging { c.weightAveraging = weightAveraging }
    if let bestBy { c.bestBy = try parseChoice(bestBy, flag: "--best-by") }
    if let diagnosticsEvery { c.diagnosticsEvery = diagnosticsEvery }
    if let logEvery { c.logEvery = logEvery }
    if !settings.isEmpty {
      let pairs = try settings.map { text -> (key: String, value: String) in
        guard let equals = text.firstIndex(of: "=") else { throw ValidationError("--set \(text): expected KEY=VALUE") }
        return (String(text[..<equals]).trimmingCharacters(in: .whitespaces), String(text[text.index(after: equals)...]))
      }
      do { c = try c.setting(pairs) } catch let error as ConfigurationError {
        throw ValidationError("--set \(error.key): \(error.message)")
      }
    }
    do { try c.validate() } catch let error as ConfigurationError { throw ValidationError(flagMessage(error)) }
    return c
  }

  private func defaultRunName(_ c: TrainingConfiguration) -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    let agr = c.agr && c.method.isAdversarial ? "-agr" : ""
    return "runs/\(c.dataset)-\(c.modelSource.name)-\(c.method.rawValue)\(agr)-\(formatter.string(from: Date()))"
  }
}
