// Reads multi-document YAML (files, or stdin for "-") and deserializes every document into
// Strimzi's own model classes (io.strimzi:api): KafkaTopic or KafkaUser, strictly.
//
// Strimzi's classes keep unknown properties in an "additionalProperties" map instead of failing
// (UnknownPropertyPreserving), which the operator only logs as a warning; so besides
// FAIL_ON_UNKNOWN_PROPERTIES every object of the tree is walked and any unknown property, or an
// enum value Strimzi does not know (read as null), is an error. Exit 0 when every document is
// valid, 1 otherwise, with one line per problem on stderr.
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.strimzi.api.kafka.model.user.KafkaUser;
import io.strimzi.api.kafka.model.user.acl.AclRule;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

public final class StrimziCheck {
    static final String API_VERSION = "kafka.strimzi.io/v1beta2";
    static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");

    public static void main(String[] args) throws Exception {
        ObjectMapper mapper = new ObjectMapper(new YAMLFactory())
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
        List<String> problems = new ArrayList<>();
        int documents = 0;
        for (String arg : args.length == 0 ? new String[] {"-"} : args) {
            try (InputStream in = arg.equals("-") ? System.in : Files.newInputStream(Path.of(arg))) {
                MappingIterator<JsonNode> docs = mapper.readerFor(JsonNode.class).readValues(in);
                while (docs.hasNext()) {
                    JsonNode node = docs.next();
                    if (node == null || node.isNull() || node.isMissingNode()) {
                        continue;
                    }
                    documents++;
                    String where = arg + " document " + documents;
                    int before = problems.size();
                    try {
                        String name = check(mapper, node, where, problems);
                        if (problems.size() == before) {
                            System.out.println("ok: " + node.path("kind").asText() + "/" + name);
                        }
                    } catch (Exception e) {
                        problems.add(where + ": " + e.getClass().getSimpleName() + ": "
                                + e.getMessage().lines().findFirst().orElse(""));
                    }
                }
            }
        }
        for (String problem : problems) {
            System.err.println("error: " + problem);
        }
        System.out.println(documents + " document(s) checked, " + problems.size() + " problem(s)");
        System.exit(problems.isEmpty() && documents > 0 ? 0 : 1);
    }

    static String check(ObjectMapper mapper, JsonNode node, String where, List<String> problems)
            throws Exception {
        String kind = node.path("kind").asText();
        if (!API_VERSION.equals(node.path("apiVersion").asText())) {
            problems.add(where + ": apiVersion must be " + API_VERSION);
        }
        Object resource;
        ObjectMeta meta;
        if (kind.equals("KafkaTopic")) {
            KafkaTopic topic = mapper.treeToValue(node, KafkaTopic.class);
            resource = topic;
            meta = topic.getMetadata();
            if (topic.getSpec() == null) {
                problems.add(where + ": KafkaTopic without spec");
            } else {
                if (topic.getSpec().getTopicName() == null || topic.getSpec().getTopicName().isEmpty()) {
                    problems.add(where + ": spec.topicName is missing");
                }
                if (topic.getSpec().getPartitions() == null || topic.getSpec().getPartitions() < 1) {
                    problems.add(where + ": spec.partitions must be >= 1");
                }
                if (topic.getSpec().getReplicas() == null || topic.getSpec().getReplicas() < 1) {
                    problems.add(where + ": spec.replicas must be >= 1");
                }
            }
        } else if (kind.equals("KafkaUser")) {
            KafkaUser user = mapper.treeToValue(node, KafkaUser.class);
            resource = user;
            meta = user.getMetadata();
            if (user.getSpec() == null || user.getSpec().getAuthentication() == null) {
                problems.add(where + ": KafkaUser without spec.authentication");
            }
            if (user.getSpec() != null && user.getSpec().getAuthorization() != null) {
                io.strimzi.api.kafka.model.user.KafkaUserAuthorizationSimple simple =
                        (io.strimzi.api.kafka.model.user.KafkaUserAuthorizationSimple)
                                user.getSpec().getAuthorization();
                for (AclRule rule : simple.getAcls()) {
                    if (rule.getResource() == null) {
                        problems.add(where + ": an ACL rule without resource");
                    }
                    if (rule.getOperations() == null || rule.getOperations().isEmpty()) {
                        problems.add(where + ": an ACL rule without operations");
                    }
                }
            }
        } else {
            throw new IllegalArgumentException("kind '" + kind + "' is not KafkaTopic or KafkaUser");
        }
        if (meta == null || meta.getName() == null) {
            problems.add(where + ": metadata.name is missing");
            return "?";
        }
        if (meta.getName().length() > 253 || !DNS_SUBDOMAIN.matcher(meta.getName()).matches()) {
            problems.add(where + ": metadata.name '" + meta.getName()
                    + "' is not a Kubernetes name (DNS-1123 subdomain)");
        }
        if (meta.getLabels() == null || !meta.getLabels().containsKey("strimzi.io/cluster")) {
            problems.add(where + ": metadata.labels has no strimzi.io/cluster");
        }
        walk(resource, kind, where, problems, new IdentityHashMap<>());
        return meta.getName();
    }

    /** Every object of Strimzi's and fabric8's model: no unknown property, no unknown enum. */
    static void walk(Object value, String path, String where, List<String> problems,
            IdentityHashMap<Object, Boolean> seen) throws Exception {
        if (value == null || seen.containsKey(value)) {
            return;
        }
        if (value instanceof Collection<?> items) {
            int index = 0;
            for (Object item : items) {
                if (item == null) {
                    problems.add(where + ": " + path + "[" + index + "] is not a value Strimzi knows");
                }
                walk(item, path + "[" + index++ + "]", where, problems, seen);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                walk(entry.getValue(), path + "." + entry.getKey(), where, problems, seen);
            }
            return;
        }
        String pkg = value.getClass().getPackageName();
        if (!pkg.startsWith("io.strimzi") && !pkg.startsWith("io.fabric8")) {
            return;
        }
        if (value.getClass().isEnum()) {
            return;
        }
        seen.put(value, true);
        for (Method method : value.getClass().getMethods()) {
            if (method.getParameterCount() != 0 || Modifier.isStatic(method.getModifiers())
                    || method.getDeclaringClass() == Object.class) {
                continue;
            }
            String name = method.getName();
            if (name.equals("getAdditionalProperties")) {
                Object extra = method.invoke(value);
                if (extra instanceof Map<?, ?> unknown && !unknown.isEmpty()) {
                    problems.add(where + ": " + path + ": unknown propert"
                            + (unknown.size() == 1 ? "y " : "ies ") + unknown.keySet());
                }
                continue;
            }
            if (!name.startsWith("get") || name.length() < 4 || name.equals("getClass")) {
                continue;
            }
            String property = Character.toLowerCase(name.charAt(3)) + name.substring(4);
            Object child;
            try {
                child = method.invoke(value);
            } catch (Exception e) {
                continue; // computed getters that need more state than a manifest gives
            }
            walk(child, path + "." + property, where, problems, seen);
        }
    }
}
