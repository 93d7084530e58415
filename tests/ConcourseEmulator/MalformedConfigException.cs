namespace OnDemand.ConcourseEmulator;

/// <summary>The config cannot even be read into Concourse's structure; it becomes one "malformed config: ..." error.</summary>
internal sealed class MalformedConfigException(string message) : Exception(message);
