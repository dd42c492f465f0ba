// In a layer: /opt/lib/Greeter.dll.
namespace Helpers
{
public static class Greeter
{
    public static string Greet()
    {
        return "from a layer";
    }
}
}
