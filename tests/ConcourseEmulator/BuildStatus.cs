namespace OnDemand.ConcourseEmulator;

/// <summary>Concourse's build statuses as they appear in Build JSON.</summary>
public static class BuildStatus
{
    public const string Pending = "pending";
    public const string Started = "started";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Errored = "errored";
    public const string Aborted = "aborted";

    public static bool IsFinal(string status) => status is Succeeded or Failed or Errored or Aborted;
}
