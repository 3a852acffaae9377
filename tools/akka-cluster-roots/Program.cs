using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
// Lists, per assembly, the types Akka's cluster modules create by reflection: actors (Props.Create with
// arguments goes through Activator), serializers, extension providers, config-named types, DotNetty handlers.
var names = new[] { "Akka.Remote", "Akka.Cluster", "Akka.Cluster.Sharding", "Akka.DistributedData", "Akka.DistributedData.LightningDB", "Akka.Coordination", "DotNetty.Transport", "DotNetty.Codecs", "DotNetty.Handlers", "DotNetty.Common", "DotNetty.Buffers", "Akka.Cluster.Tools", "Akka" };
var actorBase = typeof(Akka.Actor.ActorBase);
var ser = typeof(Akka.Serialization.Serializer);
var configNamed = new HashSet<string>();
foreach (var n in names)
{
    var bytes = File.ReadAllBytes(Assembly.Load(n).Location);
    var text = System.Text.Encoding.UTF8.GetString(bytes);
    foreach (Match m in Regex.Matches(text, @"""((?:Akka|DotNetty)[A-Za-z0-9_.+`]*), ?((?:Akka|DotNetty)[A-Za-z0-9_.]*)"""))
        configNamed.Add(m.Groups[2].Value + "|" + m.Groups[1].Value);
}
Console.WriteLine("<linker>");
foreach (var n in names)
{
    var a = Assembly.Load(n);
    var keep = new SortedDictionary<string, string>(StringComparer.Ordinal);
    Type[] types;
    try { types = a.GetTypes(); } catch (ReflectionTypeLoadException e) { types = e.Types.Where(t => t != null).ToArray()!; }
    foreach (var t in types)
    {
        if (t.IsGenericTypeDefinition && !actorBase.IsAssignableFrom(t)) continue;
        bool isActor = actorBase.IsAssignableFrom(t) && !t.IsAbstract;
        bool isSer = ser.IsAssignableFrom(t) && !t.IsAbstract;
        bool isExt = t.GetInterfaces().Any(i => i.FullName == "Akka.Actor.IExtensionId") && !t.IsAbstract;
        bool isHandler = t.GetInterfaces().Any(i => i.FullName == "DotNetty.Transport.Channels.IChannelHandler");
        bool named = configNamed.Contains(n + "|" + t.FullName);
        // Named by aishell's own HOCON or by Akka's code rather than a reference config: the actor-ref
        // providers (akka.actor.provider = cluster) and the downing provider (the split-brain resolver).
        bool provider = !t.IsAbstract && t.GetInterfaces().Any(i => i.FullName is "Akka.Actor.IActorRefProvider" or "Akka.Cluster.IDowningProvider");
        // Not created here: persistence-mode sharding (state-store-mode is ddata, remember-entities off),
        // cluster client and distributed pub-sub (their serializers and message types stay: config names them).
        // Nor reliable delivery (Akka.Delivery, sharding's producer/consumer controllers).
        bool unused = Regex.IsMatch(t.FullName!, @"EventSourced|Persistent|Tools\.Client\.|PublishSubscribe|\.Delivery\.");
        // What reflection needs of each: its constructors (Activator, Props.Create), and of a DotNetty
        // handler its methods too (the pipeline looks up each handler method's [Skip] attribute).
        // Keeping every member of every type would compile code no path reaches: 35.2 MB against 28.4 MB.
        if (((isActor || isExt) && !unused) || isSer || isHandler || named || provider)
            keep[t.FullName!.Replace('+', '/')] = isHandler ? "methods" : t.IsInterface || t.IsAbstract ? "type" : "ctors";
    }
    // Of Akka itself only what the cluster modules' configs name, less the JSON serializer (AkkaRoots.xml
    // keeps its type only) and the routers (no deployment here creates one).
    if (n == "Akka")
    {
        foreach (var x in keep.Keys.ToList())
        {
            if (!configNamed.Contains("Akka|" + x.Replace('/', '+')) || x.Contains("NewtonSoft") || x.StartsWith("Akka.Routing.", StringComparison.Ordinal))
                keep.Remove(x);
        }
    }
    if (keep.Count == 0) continue;
    Console.WriteLine($"  <assembly fullname=\"{n}\">");
    foreach (var (k, what) in keep)
    {
        Console.WriteLine(what switch
        {
            "methods" => $"    <type fullname=\"{k}\" preserve=\"methods\" />",
            "type" => $"    <type fullname=\"{k}\" preserve=\"nothing\" />",
            _ => $"    <type fullname=\"{k}\" preserve=\"nothing\"><method name=\".ctor\" /></type>",
        });
    }
    Console.WriteLine("  </assembly>");
}
Console.WriteLine("</linker>");
