using OnDemand.OperatorCli;
using Spectre.Console;

return await OperatorCliApp.RunAsync(args, AnsiConsole.Console);
