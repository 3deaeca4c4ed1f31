//! EC2 Auto Scaling groups on the emulator: created, read and protected through
//! the real SDK client, as the `ec2_asg` target sees them.

use crate::Emulator;

/// A group as a test checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    pub desired: i32,
    pub min: i32,
    pub max: i32,
    /// Instance ids, in the order the emulator lists them.
    pub instances: Vec<String>,
    pub protected: usize,
}

impl Emulator {
    pub fn autoscaling(&self) -> aws_sdk_autoscaling::Client {
        aws_sdk_autoscaling::Client::new(&self.aws)
    }

    /// Creates a group of `min`..=`max` instances at `desired`, from a launch
    /// configuration of its own.
    pub async fn create_group(&self, name: &str, min: i32, max: i32, desired: i32) {
        let asg = self.autoscaling();
        let launch = format!("{name}-launch");
        asg.create_launch_configuration()
            .launch_configuration_name(&launch)
            .image_id("ami-12c6146b")
            .instance_type("t3.micro")
            .send()
            .await
            .expect("CreateLaunchConfiguration");
        asg.create_auto_scaling_group()
            .auto_scaling_group_name(name)
            .launch_configuration_name(&launch)
            .min_size(min)
            .max_size(max)
            .desired_capacity(desired)
            .availability_zones(format!("{}a", crate::REGION))
            .send()
            .await
            .expect("CreateAutoScalingGroup");
    }

    /// The group's capacity, bounds and instances.
    pub async fn group(&self, name: &str) -> GroupView {
        let answer = self
            .autoscaling()
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name)
            .send()
            .await
            .expect("DescribeAutoScalingGroups");
        let group = answer
            .auto_scaling_groups()
            .first()
            .unwrap_or_else(|| panic!("group {name} described"));
        let instances = group.instances();
        GroupView {
            desired: group.desired_capacity().unwrap_or(-1),
            min: group.min_size().unwrap_or(-1),
            max: group.max_size().unwrap_or(-1),
            instances: instances
                .iter()
                .filter_map(|i| i.instance_id().map(str::to_string))
                .collect(),
            protected: instances
                .iter()
                .filter(|i| i.protected_from_scale_in() == Some(true))
                .count(),
        }
    }

    /// Protects the group's first `count` instances from scale-in.
    pub async fn protect_instances(&self, name: &str, count: usize) {
        let ids: Vec<String> = self
            .group(name)
            .await
            .instances
            .into_iter()
            .take(count)
            .collect();
        self.autoscaling()
            .set_instance_protection()
            .auto_scaling_group_name(name)
            .set_instance_ids(Some(ids))
            .protected_from_scale_in(true)
            .send()
            .await
            .expect("SetInstanceProtection");
    }
}
