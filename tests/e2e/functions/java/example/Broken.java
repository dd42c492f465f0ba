package example;

import java.util.Map;

/** A class whose static initialiser throws: an Init error. */
public class Broken {
  static final int VALUE = init();

  static int init() { throw new IllegalStateException("broken at init"); }

  public String handle(Map<String, Object> event) { return "never"; }
}
