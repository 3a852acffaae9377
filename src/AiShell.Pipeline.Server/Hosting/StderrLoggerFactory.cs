using Microsoft.Extensions.Logging;

namespace AiShell.Pipeline.Server.Hosting;

/// <summary>
/// Kestrel's log, warnings and errors only, one line each on standard error
/// (<c>warn: Category[id] message</c>), the shape the console logger wrote before. A few lines of
/// code instead of the logging framework's providers, options and filters.
/// </summary>
internal sealed class StderrLoggerFactory(LogLevel minimum) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, minimum);

    public void AddProvider(ILoggerProvider provider)
    {
        // Kestrel never adds providers; nothing else uses this factory.
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string level = logLevel switch
            {
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                LogLevel.Critical => "crit",
                LogLevel.Information => "info",
                _ => "dbug",
            };
            string message = formatter(state, exception);
            Console.Error.WriteLine(exception is null
                ? $"{level}: {category}[{eventId.Id}] {message}"
                : $"{level}: {category}[{eventId.Id}] {message} {exception.GetType().Name}: {exception.Message}");
        }
    }
}
