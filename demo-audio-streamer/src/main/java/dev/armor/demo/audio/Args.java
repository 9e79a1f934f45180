package dev.armor.demo.audio;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * A minimal command-line parser ({@code --name value}, {@code --name=value} and {@code --flag}), so that the
 * demo has no dependencies. Every failure is an {@link IllegalArgumentException} whose message names the option,
 * the rule and the bad value.
 */
final class Args {

    private final Map<String, String> values;
    private final Set<String> flags;

    private Args(Map<String, String> values, Set<String> flags) {
        this.values = values;
        this.flags = flags;
    }

    /** Whether the arguments ask for help ({@code -h} or {@code --help}) anywhere. */
    static boolean wantsHelp(String[] argv) {
        for (String a : argv) {
            if (a.equals("-h") || a.equals("--help")) {
                return true;
            }
        }
        return false;
    }

    static Args parse(String[] argv, Set<String> valueOptions, Set<String> flagOptions) {
        Map<String, String> values = new HashMap<>();
        Set<String> flags = new HashSet<>();
        for (int i = 0; i < argv.length; i++) {
            String arg = argv[i];
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "'");
            }
            int eq = arg.indexOf('=');
            String name = eq > 0 ? arg.substring(2, eq) : arg.substring(2);
            String value = eq > 0 ? arg.substring(eq + 1) : null;
            if (valueOptions.contains(name)) {
                if (value == null) {
                    if (i + 1 >= argv.length) {
                        throw new IllegalArgumentException("--" + name + " needs a value");
                    }
                    value = argv[++i];
                }
                values.put(name, value);
            } else if (flagOptions.contains(name)) {
                if (value != null) {
                    throw new IllegalArgumentException("--" + name + " takes no value, but was given '" + value + "'");
                }
                flags.add(name);
            } else {
                throw new IllegalArgumentException("unknown option --" + name);
            }
        }
        return new Args(values, flags);
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    String string(String name, String defaultValue) {
        return values.getOrDefault(name, defaultValue);
    }

    int integer(String name, int defaultValue, int min, int max) {
        String raw = values.get(name);
        if (raw == null) {
            return defaultValue;
        }
        try {
            int v = Integer.parseInt(raw.trim());
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below with the rule
        }
        throw new IllegalArgumentException(
                "--" + name + " must be an integer in " + min + ".." + max + ", but was '" + raw + "'");
    }

    int requiredInteger(String name, int min, int max) {
        if (!has(name)) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return integer(name, 0, min, max);
    }

    /** A positive decimal number, or {@code defaultValue} when the option is absent. */
    double positiveDecimal(String name, double defaultValue) {
        String raw = values.get(name);
        if (raw == null) {
            return defaultValue;
        }
        try {
            double v = Double.parseDouble(raw.trim());
            if (v > 0 && !Double.isInfinite(v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below with the rule
        }
        throw new IllegalArgumentException("--" + name + " must be a positive number, but was '" + raw + "'");
    }
}
