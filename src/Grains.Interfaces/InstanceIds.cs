using System.Text.RegularExpressions;

namespace OnDemand.Grains.Interfaces;

/// <summary>
/// The form of instance and binding ids the broker accepts (Cloud Foundry sends GUIDs). Ids become grain keys, so
/// nothing outside this form may reach one (docs/osb-behaviour.md, "Limits").
/// </summary>
public static partial class InstanceIds
{
    public const int MaxLength = 100;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);
}
