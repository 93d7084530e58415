using System.Text;

namespace OnDemand.BrokerGateway.Osb;

/// <summary>
/// JSON Schema patterns are ECMA-262 regular expressions; the schema library runs them as .NET ones, which differ
/// where it matters for validation: .NET's <c>$</c> also matches before a final newline ("128MB\n" would pass
/// <c>^[0-9]+MB$</c>), <c>\d</c> and <c>\w</c> match any Unicode digit or letter, and <c>.</c> matches \r and the
/// Unicode line separators. This rewrites a pattern so .NET gives ECMA-262's answers for those constructs.
/// </summary>
public static class EcmaPatterns
{
    public static string ToDotNet(string pattern)
    {
        var result = new StringBuilder(pattern.Length + 16);
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var next = pattern[++i];
                result.Append((next, inClass) switch
                {
                    ('d', false) => "[0-9]",
                    ('d', true) => "0-9",
                    ('D', false) => "[^0-9]",
                    ('w', false) => "[a-zA-Z0-9_]",
                    ('w', true) => "a-zA-Z0-9_",
                    ('W', false) => "[^a-zA-Z0-9_]",
                    _ => $"\\{next}",
                });
                continue;
            }
            if (inClass)
            {
                if (c == ']') inClass = false;
                result.Append(c);
                continue;
            }
            switch (c)
            {
                case '[':
                    inClass = true;
                    result.Append(c);
                    // A leading ']' or '^]' is a literal in .NET; ECMA-262 has no such case worth keeping apart.
                    break;
                case '$':
                    result.Append(@"\z");
                    break;
                case '.':
                    result.Append(@"[^\n\r\u2028\u2029]");
                    break;
                default:
                    result.Append(c);
                    break;
            }
        }
        return result.ToString();
    }
}
