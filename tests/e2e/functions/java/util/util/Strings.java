package util;

/** In the package's lib/util.jar. */
public class Strings {
  public static String shout(String s) { return s.toUpperCase() + "!"; }
}
