namespace OnDemand.ConcourseEmulator;

internal enum FaultKind { Fail, Hang, LoseResponse }
