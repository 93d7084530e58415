namespace OnDemand.Grains.Concourse;

/// <summary>Bound from the "Concourse" configuration section (e.g. Concourse__Url).</summary>
public sealed class ConcourseOptions
{
    public const string Section = "Concourse";
    public string Url { get; set; } = "";
    public string Team { get; set; } = "main";
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";
    /// <summary>Per HTTP call; a hung Concourse must never hold a grain for long.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
