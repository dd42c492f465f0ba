package lib;

/** In a layer's java/lib/greeter.jar. */
public class Greeter {
  public static String greet() { return "from a layer"; }
}
