using System.Text.RegularExpressions;

namespace OnDemand.Grains.Pipelines;

/// <summary>
/// A string of a template with its `((var))` references found once (<see cref="CompiledTemplate"/>): the text is fixed,
/// so the references found in it are the same for every render.
/// </summary>
internal sealed partial class TemplateText
{
    /// <param name="Name">the reference's name, source included (`vault:x`).</param>
    /// <param name="HasSource">`((vault:x))`, `((.:x))`: resolved by Concourse, never by the broker.</param>
    public readonly record struct Reference(int Index, int Length, string Name, bool HasSource);

    private TemplateText(string text, Reference[] references)
    {
        Text = text;
        References = references;
    }

    public string Text { get; }

    public Reference[] References { get; }

    /// <summary>The text is exactly one reference: it takes the value's type.</summary>
    public bool IsWholeReference => References is [{ Index: 0 } whole] && whole.Length == Text.Length;

    public static TemplateText Parse(string text) =>
        new(text, [.. Find(text).Select(match => new Reference(match.Index, match.Length, match.Groups[1].Value, match.Groups[2].Success))]);

    /// <summary>Whether the text might hold a reference at all (cheaper than <see cref="Parse"/>).</summary>
    public static bool MayHoldReference(string text) => text.Contains("((", StringComparison.Ordinal);

    /// <summary>The references in TEXT, as Concourse finds them (vars/template.go), with Go's ASCII-only `\w` spelled out.</summary>
    public static MatchCollection Find(string text) => VarReference().Matches(text);

    [GeneratedRegex("""\(\((([-/.0-9A-Za-z_\p{L}]+:)?[-/.:@"0-9A-Za-z_\p{L}]+)\)\)""", RegexOptions.CultureInvariant)]
    private static partial Regex VarReference();
}
