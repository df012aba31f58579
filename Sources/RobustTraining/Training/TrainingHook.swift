import Torch

/// Code that runs inside the epoch loop, the trainer's one event system: after every optimizer step (the
/// model in train mode; read nothing back from the device there unless you mean to wait for it), after each
/// log window's metrics were read back (`log_every` steps), and after every epoch (its evaluation and
/// checkpoint written). The weight average, TensorBoard and `agr train`'s progress printer are hooks; add
/// your own to `Trainer.hooks`.
public protocol TrainingHook: AnyObject {
  func trainerFinishedStep(_ trainer: Trainer, iteration: Int, output: TrainingStep.Output) throws
  /// After a log window: its loss and accuracies, throughput, ETA, learning rate.
  func trainerReported(_ trainer: Trainer, progress: BatchProgress) throws
  /// After a step that took a gradient sample (`diagnostics_every`), with the sample already on the host.
  func trainerTookSample(_ trainer: Trainer, sample: GradientSample) throws
  func trainerFinishedEpoch(_ trainer: Trainer, record: EpochRecord) throws
}

extension TrainingHook {
  public func trainerFinishedStep(_ trainer: Trainer, iteration: Int, output: TrainingStep.Output) throws {}
  public func trainerReported(_ trainer: Trainer, progress: BatchProgress) throws {}
  public func trainerTookSample(_ trainer: Trainer, sample: GradientSample) throws {}
  public func trainerFinishedEpoch(_ trainer: Trainer, record: EpochRecord) throws {}
}

extension WeightAverage: TrainingHook {
  public func trainerFinishedStep(_ trainer: Trainer, iteration: Int, output: TrainingStep.Output) throws { try update() }
}
