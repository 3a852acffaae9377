namespace AiShell.Pipeline.Server.Discovery;

/// <summary>
/// <c>--file-sd PATH</c>: writes the target group for Prometheus' file_sd_configs when the exporter
/// starts (through a temporary file and a rename, so Prometheus never reads half a file) and removes
/// it on a clean stop, so Prometheus drops the target instead of scraping a stopped exporter.
/// </summary>
public sealed class FileSdWriter(string path)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public void Write(DiscoveryTargets targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        string directory = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(directory);
        string temp = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temp, targets.ToJson());
        File.Move(temp, Path, overwrite: true);
    }

    public void Remove()
    {
        if (File.Exists(Path))
        {
            File.Delete(Path);
        }
    }
}
