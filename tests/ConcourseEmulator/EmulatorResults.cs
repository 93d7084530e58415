namespace OnDemand.ConcourseEmulator;

/// <summary>Outcomes of state operations; the HTTP layer maps each to Concourse's status code.</summary>
internal enum SaveConfigResult { TeamNotFound, Created, Updated, VersionConflict }

internal enum PipelineActionResult { Done, NotFound, Archived }

internal enum TriggerResult { Created, PipelineNotFound, JobNotFound, Archived, ManualTriggerDisabled }
